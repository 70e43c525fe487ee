import { existsSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Effect } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import { admin, contextFor, createFixture, type Fixture, makeDriver, serverPort, superuserUrl } from "./helpers.js"

let db: Fixture
const { pools, driver } = makeDriver()
const superuser = {
  username: decodeURIComponent(new URL(superuserUrl).username),
  password: decodeURIComponent(new URL(superuserUrl).password)
}
const reader = { username: "pb_policy_drv_reader", password: "reader-secret" }
const marker = `/tmp/pb-policy-${process.pid}`

beforeAll(async () => {
  db = await createFixture("pb_policy_drv")
  await admin(["CREATE EXTENSION IF NOT EXISTS dblink"], db.name)
  await admin([
    `DROP ROLE IF EXISTS ${reader.username}`,
    `CREATE ROLE ${reader.username} LOGIN PASSWORD '${reader.password}'`
  ])
  await db.sql(`
    CREATE TABLE people (id int PRIMARY KEY, name text);
    INSERT INTO people SELECT i, 'person ' || i FROM generate_series(1, 40) i;
    GRANT SELECT ON people TO ${reader.username};
  `)
})
afterAll(async () => {
  await Effect.runPromise(pools.closeAll)
  await db.drop()
  await admin([`DROP ROLE IF EXISTS ${reader.username}`])
})

const request = (sql: string, options: Partial<Database.QueryRequest> = {}) =>
  Database.QueryRequest.make({ sql, timeoutMillis: 10_000, ...options })

const count = (sql: string) => Effect.promise(() => db.sql(sql)).pipe(Effect.map((r) => Number(r.rows[0].n)))

const people = () => count("SELECT count(*)::int AS n FROM people")

/** A connection string dblink can use to reach this database as the fixture's owner. */
const loopback = () => `host=127.0.0.1 port=${serverPort} dbname=${db.name} user=${db.name} password=${db.password}`

describe("side-effect functions on a read-only instance", () => {
  it.effect("the hole is real: dblink writes from inside a READ ONLY transaction when nothing guards it", () =>
    Effect.gen(function* () {
      const client = new pg.Client({
        connectionString: Object.assign(new URL(superuserUrl), { pathname: `/${db.name}` }).toString()
      })
      yield* Effect.promise(() => client.connect())
      yield* Effect.promise(async () => {
        await client.query("BEGIN READ ONLY")
        await client.query("SELECT dblink_exec($1, 'DELETE FROM people WHERE id = 40')", [loopback()])
        await client.query("ROLLBACK")
        await client.end()
      })
      assert.strictEqual(yield* people(), 39)
      yield* Effect.promise(() => db.sql("INSERT INTO people VALUES (40, 'person 40')"))
    })
  )

  for (const [who, credentials] of [
    ["owner", undefined],
    ["superuser", superuser]
  ] as const) {
    it.effect(
      `are refused with the ${who}'s credential, even when the configuration allows them; nothing happens`,
      () =>
        Effect.gen(function* () {
          const context = contextFor(db, {
            configuration: { read_only: true, allow_side_effect_functions: true },
            ...(credentials === undefined ? {} : credentials)
          })
          const victim = new pg.Client({
            host: "127.0.0.1",
            port: serverPort,
            database: db.name,
            user: db.name,
            password: db.password
          })
          yield* Effect.promise(() => victim.connect())
          const pid = (yield* Effect.promise(() => victim.query("SELECT pg_backend_pid() AS p"))).rows[0].p as number
          const corpus = [
            `SELECT dblink_exec('${loopback()}', 'DELETE FROM people')`,
            `SELECT * FROM public.dblink('${loopback()}', 'DELETE FROM people RETURNING 1') AS r(x int)`,
            `SELECT "dblink_connect"('c', '${loopback()}')`,
            "SELECT pg_advisory_lock(4242)",
            "SELECT pg_catalog.pg_try_advisory_lock_shared(4242)",
            `SELECT pg_terminate_backend(${pid})`,
            `SELECT pg_cancel_backend(${pid})`,
            "SELECT lo_import('/etc/hostname')",
            "SELECT pg_read_file('PG_VERSION')",
            "SELECT ('PG_VERSION'::text).pg_read_file",
            "SELECT count(*) FROM pg_ls_dir('.')",
            "SELECT query_to_xml('DELETE FROM people RETURNING 1', true, true, '')",
            `COPY people TO PROGRAM 'touch ${marker}'`,
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "SELECT pg_reload_conf()"
          ]
          const failed: Array<string> = []
          for (const sql of corpus) {
            const error = yield* Effect.flip(driver.query(context, request(sql)))
            if (!(error._tag === "RequestRejected" && error.status === "policy")) failed.push(sql)
          }
          assert.deepStrictEqual(failed, [], `read-only side-effect class (${who}): ${corpus.length} tries`)
          assert.strictEqual(yield* people(), 40)
          assert.strictEqual(yield* count("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'"), 0)
          assert.strictEqual(yield* count("SELECT count(*)::int AS n FROM pg_largeobject_metadata"), 0)
          assert.isFalse(existsSync(marker))
          const alive = yield* Effect.promise(() => victim.query("SELECT 1 AS n"))
          assert.strictEqual(alive.rows[0].n, 1)
          yield* Effect.promise(() => victim.end())
          const stillReadOnly = yield* Effect.flip(
            driver.query(context, request("INSERT INTO people VALUES (41, 'x')"))
          )
          assert.strictEqual(stillReadOnly._tag, "RequestRejected")
        }).pipe(Effect.ensuring(pools.closeAll))
    )
  }
})

describe("side-effect functions on a writable instance", () => {
  it.effect("are refused by default and run when the configuration allows them", () =>
    Effect.gen(function* () {
      const refused = yield* Effect.flip(
        driver.query(contextFor(db), request("SELECT pg_try_advisory_lock(4243) AS l"))
      )
      assert.strictEqual(refused._tag, "RequestRejected")
      assert.include(refused.message, "side-effect function (session_advisory_lock)")
      const single = makeDriver({ maxConnections: 1 })
      const allowing = contextFor(db, { configuration: { allow_side_effect_functions: true } })
      const locked = yield* single.driver.query(allowing, request("SELECT pg_try_advisory_lock(4243) AS l"))
      assert.deepStrictEqual(locked.rows, [{ l: true }])
      const unlocked = yield* single.driver.query(allowing, request("SELECT pg_advisory_unlock(4243) AS u"))
      assert.deepStrictEqual(unlocked.rows, [{ u: true }])
      yield* single.pools.closeAll
      const ddl = yield* Effect.flip(
        driver.executeDdl(
          contextFor(db),
          Database.DdlRequest.make({
            sql: "CREATE TABLE stolen AS SELECT pg_read_file('PG_VERSION') AS f",
            confirm: true
          })
        )
      )
      assert.strictEqual(ddl._tag, "DdlRejected")
      assert.include(ddl.message, "server_file")
    })
  )
})

describe("table-wide DELETE and UPDATE through the driver", () => {
  it.effect("need a reason; refused statements change nothing, reasoned ones run and report the tables", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      for (const sql of [
        "DELETE FROM people",
        "UPDATE people SET name = 'x' WHERE id > 0",
        "DELETE FROM people WHERE 1 = 1"
      ]) {
        const error = yield* Effect.flip(driver.query(context, request(sql)))
        assert.strictEqual(error._tag, "RequestRejected", sql)
        if (error._tag === "RequestRejected") assert.strictEqual(error.status, "reason_required", sql)
        assert.include(error.message, "public.people", sql)
      }
      assert.strictEqual(yield* count("SELECT count(*)::int AS n FROM people WHERE name LIKE 'person %'"), 40)
      const partial = yield* driver.query(context, request("UPDATE people SET name = 'renamed' WHERE id <= 10"))
      assert.strictEqual(partial.rowCount, 10)
      assert.deepStrictEqual(partial.tableWide, [])
      const reasoned = yield* driver.query(
        context,
        request("DELETE FROM people RETURNING id", { reason: "reset", maxRows: 5 })
      )
      assert.strictEqual(reasoned.rows.length, 5)
      assert.isTrue(reasoned.truncated)
      assert.deepStrictEqual(
        reasoned.tableWide.map((t) => [t.table, t.rows, t.why]),
        [["public.people", 40, "no_restricting_where"]]
      )
      assert.strictEqual(yield* people(), 0)
      yield* Effect.promise(() => db.sql("INSERT INTO people SELECT i, 'person ' || i FROM generate_series(1, 40) i"))
    })
  )
})

describe("test_connection and least privilege", () => {
  it.effect("reports the role's attributes and warns when a read-only instance's role can write or is superuser", () =>
    Effect.gen(function* () {
      const readOnly = { configuration: { read_only: true } }
      const owner = yield* driver.test(contextFor(db, readOnly))
      assert.isTrue(owner.startsWith(`Warning: read_only instance, but role ${db.name} can write`), owner)
      assert.include(owner, "superuser no, createrole no, bypassrls no, replication no, can write yes")
      const root = yield* driver.test(contextFor(db, { ...readOnly, ...superuser }))
      assert.include(root, "is a superuser")
      assert.include(root, "superuser yes")
      const fit = yield* driver.test(contextFor(db, { ...readOnly, ...reader }))
      assert.isFalse(fit.startsWith("Warning"), fit)
      assert.include(
        fit,
        `role ${reader.username}: superuser no, createrole no, bypassrls no, replication no, can write no`
      )
      const writable = yield* driver.test(contextFor(db))
      assert.isFalse(writable.startsWith("Warning"), writable)
      assert.include(writable, "PostgreSQL 15")
    }).pipe(Effect.ensuring(pools.closeAll))
  )
})
