import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { admin, contextFor, createFixture, type Fixture, makeDriver } from "./helpers.js"

let db: Fixture
const { pools, driver } = makeDriver()

beforeAll(async () => {
  db = await createFixture("pb_query")
  await db.sql(`
    CREATE TYPE mood AS ENUM ('happy', 'sad');
    CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, born date, mood mood, tags text[], meta jsonb);
    INSERT INTO people SELECT i, 'person ' || i, DATE '2000-01-01' + i, 'happy', ARRAY['a', 'b'], '{"k": 1}'
      FROM generate_series(1, 2500) i;
    CREATE TABLE audit (id serial PRIMARY KEY, note text);
    CREATE FUNCTION write_audit(note text) RETURNS int LANGUAGE sql AS
      $$ INSERT INTO audit (note) VALUES (note) RETURNING id $$;
    CREATE TABLE secret (x int);
  `)
  await db.sql("REVOKE ALL ON secret FROM PUBLIC")
})
afterAll(async () => {
  await Effect.runPromise(pools.closeAll)
  await db.drop()
  await admin(["DROP ROLE IF EXISTS pb_query_reader"])
})

const request = (sql: string, params: ReadonlyArray<unknown> = [], options: Partial<Database.QueryRequest> = {}) =>
  Database.QueryRequest.make({ sql, params, maxRows: 10_000, timeoutMillis: 30_000, ...options })

describe("Run Query", () => {
  it.effect("binds parameters and names columns and their types", () =>
    Effect.gen(function* () {
      const result = yield* driver.query(
        contextFor(db),
        request("SELECT id, name, born, mood, tags, meta FROM people WHERE id = $1 OR name = $2 ORDER BY id", [
          7,
          "person 9"
        ])
      )
      assert.deepStrictEqual(
        result.columns.map((c) => [c.name, c.type]),
        [
          ["id", "integer"],
          ["name", "text"],
          ["born", "date"],
          ["mood", "mood"],
          ["tags", "text[]"],
          ["meta", "jsonb"]
        ]
      )
      assert.strictEqual(result.rowCount, 2)
      assert.isFalse(result.truncated)
      assert.strictEqual(result.rows[0]!.id, 7)
      assert.strictEqual(result.rows[1]!.name, "person 9")
      assert.deepStrictEqual(result.rows[0]!.tags, ["a", "b"])
      assert.deepStrictEqual(result.rows[0]!.meta, { k: 1 })
      assert.strictEqual(result.rows[0]!.mood, "happy")
    })
  )

  it.effect("a parameter is data, never SQL", () =>
    Effect.gen(function* () {
      const result = yield* driver.query(contextFor(db), request("SELECT $1::text AS v", ["1; DROP TABLE people"]))
      assert.deepStrictEqual(result.rows, [{ v: "1; DROP TABLE people" }])
      const still = yield* driver.query(contextFor(db), request("SELECT count(*)::int AS n FROM people"))
      assert.deepStrictEqual(still.rows, [{ n: 2500 }])
    })
  )

  it.effect("caps rows and says so; the server sends no more than maxRows + 1", () =>
    Effect.gen(function* () {
      const capped = yield* driver.query(
        contextFor(db),
        request("SELECT id FROM people ORDER BY id", [], { maxRows: 100 })
      )
      assert.strictEqual(capped.rows.length, 100)
      assert.strictEqual(capped.rowCount, 100)
      assert.isTrue(capped.truncated)
      assert.strictEqual(capped.rows[99]!.id, 100)
      const exact = yield* driver.query(
        contextFor(db),
        request("SELECT id FROM people WHERE id <= 100", [], { maxRows: 100 })
      )
      assert.strictEqual(exact.rows.length, 100)
      assert.isFalse(exact.truncated)
      // A huge result is cut at the server: this would be 100M rows.
      const huge = yield* driver.query(
        contextFor(db),
        request("SELECT a.i FROM generate_series(1, 10000) a(i), generate_series(1, 10000) b(j)", [], {
          maxRows: 5,
          timeoutMillis: 5_000
        })
      )
      assert.deepStrictEqual(
        huge.rows.map((r) => r.i),
        [1, 1, 1, 1, 1]
      )
      assert.isTrue(huge.truncated)
    })
  )

  it.effect("a statement over its timeout is TimedOut", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        driver.query(contextFor(db), request("SELECT pg_sleep(5)", [], { timeoutMillis: 200 }))
      )
      assert.strictEqual(error._tag, "TimedOut")
      if (error._tag === "TimedOut") assert.strictEqual(error.afterMillis, 200)
      // The timeout was local to that call.
      const after = yield* driver.query(contextFor(db), request("SELECT current_setting('statement_timeout') AS t"))
      assert.strictEqual(after.rows[0]!.t, "30s")
    })
  )

  it.effect("no call can lift the next call's statement timeout: SET and session set_config are refused", () =>
    Effect.gen(function* () {
      // One connection, so that the second call would find the session the first one changed.
      const single = makeDriver({ maxConnections: 1 })
      const context = contextFor(db)
      const short = { timeoutMillis: 300 }
      yield* single.driver.query(context, request("SELECT 1", [], short))
      for (const sql of [
        "SET statement_timeout = 0",
        "SELECT set_config('statement_timeout', '0', false)",
        "SELECT pg_catalog.set_config('statement_timeout', '0', true)"
      ]) {
        const refused = yield* Effect.flip(single.driver.query(context, request(sql, [], short)))
        assert.strictEqual(refused._tag, "RequestRejected", sql)
        if (refused._tag === "RequestRejected") assert.strictEqual(refused.status, "policy", sql)
      }
      const error = yield* Effect.flip(single.driver.query(context, request("SELECT pg_sleep(5)", [], short)))
      assert.strictEqual(error._tag, "TimedOut")
      yield* single.pools.closeAll
    })
  )

  it.effect("COPY with the client is RequestRejected, and the connection stays usable", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      const from = yield* Effect.flip(driver.query(context, request("COPY audit (note) FROM STDIN")))
      assert.strictEqual(from._tag, "RequestRejected")
      assert.include(from.message, "COPY")
      const to = yield* Effect.flip(driver.query(context, request("COPY people TO STDOUT")))
      assert.strictEqual(to._tag, "RequestRejected")
      const after = yield* driver.query(context, request("SELECT count(*)::int AS n FROM audit WHERE note IS NULL"))
      assert.deepStrictEqual(after.rows, [{ n: 0 }])
    })
  )

  it.effect("bad SQL is RequestRejected with the server's message; parameter values are not echoed", () =>
    Effect.gen(function* () {
      const syntax = yield* Effect.flip(driver.query(contextFor(db), request("SELEC 1")))
      assert.strictEqual(syntax._tag, "RequestRejected")
      if (syntax._tag === "RequestRejected") assert.strictEqual(syntax.status, "42601")
      assert.include(syntax.message, 'syntax error at or near "SELEC"')
      const value = yield* Effect.flip(
        driver.query(contextFor(db), request("SELECT $1::int AS n", ["card-4111111111111111"]))
      )
      assert.strictEqual(value._tag, "RequestRejected")
      assert.include(value.message, "invalid input syntax for type integer")
      assert.notInclude(value.message, "4111111111111111")
      const unique = yield* Effect.flip(
        driver.query(contextFor(db), request("INSERT INTO people (id, name) VALUES ($1, $2)", [1, "dup"]))
      )
      assert.strictEqual(unique._tag, "RequestRejected")
      if (unique._tag === "RequestRejected") assert.strictEqual(unique.status, "23505")
    })
  )

  it.effect("only one statement per call", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(driver.query(contextFor(db), request("SELECT 1; DELETE FROM people")))
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, "Run Query runs one statement; this request has 2")
    })
  )

  it.effect("writes report affected rows; a missing privilege is AuthFailed(insufficient_permissions)", () =>
    Effect.gen(function* () {
      const insert = yield* driver.query(
        contextFor(db),
        request("INSERT INTO audit (note) SELECT 'n' || i FROM generate_series(1, 3) i")
      )
      assert.strictEqual(insert.rowCount, 3)
      assert.deepStrictEqual(insert.columns, [])
      yield* Effect.promise(() =>
        admin(["DROP ROLE IF EXISTS pb_query_reader", "CREATE ROLE pb_query_reader LOGIN PASSWORD 'reader-pw'"])
      )
      const denied = yield* Effect.flip(
        driver.query(
          contextFor(db, { username: "pb_query_reader", password: "reader-pw" }),
          request("SELECT * FROM secret")
        )
      ).pipe(Effect.ensuring(pools.closeAll))
      assert.strictEqual(denied._tag, "AuthFailed")
      if (denied._tag === "AuthFailed") assert.strictEqual(denied.kind, "insufficient_permissions")
    })
  )

  it.effect("transaction control is refused and never leaves a pooled connection inside a transaction", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      for (const sql of ["BEGIN", "START TRANSACTION", "COMMIT", "SAVEPOINT s"]) {
        const error = yield* Effect.flip(driver.query(context, request(sql)))
        assert.strictEqual(error._tag, "RequestRejected", sql)
        assert.include(error.message, "Execute DDL", sql)
      }
      const idle = yield* Effect.promise(() =>
        db.sql(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
        )
      )
      assert.strictEqual(idle.rows[0].n, 0)
    })
  )
})

describe("read-only instances", () => {
  const readOnly = () => contextFor(db, { configuration: { read_only: true } })

  it.effect("read", () =>
    Effect.gen(function* () {
      const result = yield* driver.query(readOnly(), request("SELECT count(*)::int AS n FROM people"))
      assert.deepStrictEqual(result.rows, [{ n: 2500 }])
    })
  )

  it.effect("cannot write: not with DML, a data-modifying CTE, a function that writes, nor nextval", () =>
    Effect.gen(function* () {
      const context = readOnly()
      const attempts = [
        "INSERT INTO audit (note) VALUES ('ro')",
        "UPDATE people SET name = 'x' WHERE id = 1",
        "WITH gone AS (DELETE FROM people WHERE id = 1 RETURNING id) SELECT count(*) FROM gone",
        "SELECT write_audit('via function')",
        "SELECT nextval('audit_id_seq')"
      ]
      for (const sql of attempts) {
        const error = yield* Effect.flip(driver.query(context, request(sql)))
        assert.strictEqual(error._tag, "RequestRejected", sql)
        if (error._tag === "RequestRejected") assert.strictEqual(error.status, "25006", sql)
      }
      // Refused by the SQL policy before reaching the server.
      for (const sql of ["CREATE TABLE sneaky (x int)", "SET transaction_read_only = off"]) {
        const error = yield* Effect.flip(driver.query(context, request(sql)))
        assert.strictEqual(error._tag, "RequestRejected", sql)
        if (error._tag === "RequestRejected") assert.strictEqual(error.status, "policy", sql)
      }
      const people = yield* Effect.promise(() => db.sql("SELECT count(*)::int AS n FROM people"))
      assert.strictEqual(people.rows[0].n, 2500)
      const notes = yield* Effect.promise(() =>
        db.sql("SELECT count(*)::int AS n FROM audit WHERE note IN ('ro', 'via function')")
      )
      assert.strictEqual(notes.rows[0].n, 0)
    })
  )

  it.effect("a session setting or COMMIT in one call does not open writes for the next", () =>
    Effect.gen(function* () {
      const context = readOnly()
      for (const sql of [
        "SET default_transaction_read_only = off",
        "COMMIT",
        "SELECT set_config('default_transaction_read_only', 'off', false)"
      ]) {
        const refused = yield* Effect.flip(driver.query(context, request(sql)))
        assert.strictEqual(refused._tag, "RequestRejected", sql)
      }
      const error = yield* Effect.flip(driver.query(context, request("INSERT INTO audit (note) VALUES ('ro')")))
      assert.strictEqual(error._tag, "RequestRejected")
    })
  )
})
