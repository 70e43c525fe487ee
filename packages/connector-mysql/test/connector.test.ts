import { assert, describe, it } from "@effect/vitest"
import { Database, EgressPolicy } from "@patchbay/core"
import { Ports } from "@patchbay/testing"
import { Cause, Effect, Exit, Option, Schedule } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as MysqlConnector from "../src/MysqlConnector.js"
import * as MysqlPools from "../src/MysqlPools.js"
import { admin, contextFor, createFixture, type Fixture, makeDriver, missing } from "./helpers.js"

const { pools, driver } = makeDriver()
let db: Fixture

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

describe.skipIf(missing)("MySQL connector on MariaDB", () => {
  beforeAll(async () => {
    db = await createFixture("pb_my")
    await admin([
      `CREATE TABLE pb_my.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(40) NOT NULL, note TEXT NULL)`,
      `INSERT INTO pb_my.items (name) VALUES ('a'), ('b'), ('c'), ('d'), ('e')`,
      `CREATE VIEW pb_my.item_names AS SELECT name FROM pb_my.items`,
      `DROP USER IF EXISTS 'pb_reader'@'%'`,
      `CREATE USER 'pb_reader'@'%' IDENTIFIED BY 'reader-secret-pw'`,
      `GRANT SELECT ON pb_my.* TO 'pb_reader'@'%'`
    ])
  })
  afterAll(async () => {
    await Effect.runPromise(pools.closeAll)
    await db.drop()
    await admin([`DROP USER IF EXISTS 'pb_reader'@'%'`])
  })

  it.effect("test reports the server and the account's privileges, warning a read-only instance", () =>
    Effect.gen(function* () {
      const writer = yield* driver.test(contextFor(db, { configuration: { read_only: true } }))
      assert.match(writer, /MariaDB/)
      assert.match(writer, /^Warning: read_only instance, but account pb_my@% can write/)
      const reader = yield* driver.test(
        contextFor(db, { username: "pb_reader", password: "reader-secret-pw", configuration: { read_only: true } })
      )
      assert.notMatch(reader, /Warning/)
      assert.match(reader, /can write no/)
    })
  )

  it.effect("a wrong password is AuthFailed (invalid_credentials), without the password", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(driver.test(contextFor(db, { password: "wrong-password-xyz" })))
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "AuthFailed")
      if (error._tag === "AuthFailed") {
        assert.strictEqual(error.kind, "invalid_credentials")
        assert.notInclude(error.detail, "wrong-password-xyz")
        assert.include(error.detail, "1045")
      }
    })
  )

  it.effect("a closed port is Unreachable", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => Ports.freePort())
      const exit = yield* Effect.exit(driver.healthCheck(contextFor(db, { configuration: { port } })))
      assert.strictEqual(failureOf(exit)._tag, "Unreachable")
    })
  )

  it.effect("the egress policy is applied before connecting", () =>
    Effect.gen(function* () {
      const strict = MysqlConnector.make(MysqlPools.unsafeMake(EgressPolicy.make()))
      const exit = yield* Effect.exit(strict.healthCheck(contextFor(db)))
      assert.strictEqual(failureOf(exit)._tag, "EgressDenied")
    })
  )

  it.effect("Run Query binds parameters and caps rows", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      const one = yield* driver.query(
        context,
        new Database.QueryRequest({
          sql: "SELECT id, name FROM items WHERE name = ?",
          params: ["c"],
          maxRows: 10,
          timeoutMillis: 10_000
        })
      )
      assert.deepStrictEqual(one.rows, [{ id: 3, name: "c" }])
      assert.deepStrictEqual(
        one.columns.map((c) => c.name),
        ["id", "name"]
      )
      const capped = yield* driver.query(
        context,
        new Database.QueryRequest({
          sql: "SELECT id FROM items ORDER BY id",
          params: [],
          maxRows: 2,
          timeoutMillis: 10_000
        })
      )
      assert.strictEqual(capped.rows.length, 2)
      assert.isTrue(capped.truncated)
      const injected = yield* driver.query(
        context,
        new Database.QueryRequest({
          sql: "SELECT COUNT(*) AS n FROM items WHERE name = ?",
          params: ["x' OR '1'='1"],
          maxRows: 10,
          timeoutMillis: 10_000
        })
      )
      assert.strictEqual(Number(injected.rows[0]?.n), 0)
    })
  )

  it.effect("a read-only instance cannot write", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        driver.query(
          contextFor(db, { configuration: { read_only: true } }),
          new Database.QueryRequest({
            sql: "INSERT INTO items (name) VALUES ('ro')",
            params: [],
            maxRows: 10,
            timeoutMillis: 10_000
          })
        )
      )
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "RequestRejected")
      const rows = yield* Effect.promise(() => admin(["SELECT COUNT(*) AS n FROM pb_my.items WHERE name = 'ro'"]))
      assert.strictEqual(Number(rows[0]?.n), 0)
    })
  )

  it.effect("the policy refuses DDL, stacked statements and side-effect functions in Run Query", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      for (const sql of [
        "DROP TABLE items",
        "SELECT 1; SELECT 2",
        "SELECT LOAD_FILE('/etc/passwd')",
        "SELECT * FROM items INTO OUTFILE '/tmp/pb_out'",
        "SELEC nonsense"
      ]) {
        const exit = yield* Effect.exit(
          driver.query(context, new Database.QueryRequest({ sql, params: [], maxRows: 10, timeoutMillis: 10_000 }))
        )
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "RequestRejected", sql)
      }
    })
  )

  it.effect("a DELETE without WHERE on a non-empty table needs a reason", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() =>
        admin(["CREATE TABLE pb_my.scratch (id INT)", "INSERT INTO pb_my.scratch VALUES (1), (2)"])
      )
      const context = contextFor(db)
      const exit = yield* Effect.exit(
        driver.query(
          context,
          new Database.QueryRequest({ sql: "DELETE FROM scratch", params: [], maxRows: 10, timeoutMillis: 10_000 })
        )
      )
      const error = failureOf(exit)
      assert.strictEqual(error._tag === "RequestRejected" ? error.status : error._tag, "reason_required")
      const kept = yield* Effect.promise(() => admin(["SELECT COUNT(*) AS n FROM pb_my.scratch"]))
      assert.strictEqual(Number(kept[0]?.n), 2)
      const done = yield* driver.query(
        context,
        new Database.QueryRequest({
          sql: "DELETE FROM scratch",
          params: [],
          maxRows: 10,
          timeoutMillis: 10_000,
          reason: "reset fixture"
        })
      )
      assert.strictEqual(done.rowCount, 2)
      assert.deepStrictEqual(
        done.tableWide.map((t) => [t.table, t.rows]),
        [["pb_my.scratch", 2]]
      )
    })
  )

  it.live("a statement past its timeout is killed on the server", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        driver.query(
          contextFor(db),
          new Database.QueryRequest({
            sql: "SELECT SLEEP(60) AS pb_sleep_marker",
            params: [],
            maxRows: 10,
            timeoutMillis: 300
          })
        )
      )
      assert.strictEqual(failureOf(exit)._tag, "TimedOut")
      // The kill ran before the call ended: the server has no such statement left (polled, bounded).
      const left = yield* Effect.promise(() =>
        admin([
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%pb_sleep_marker%' AND ID <> CONNECTION_ID()"
        ])
      ).pipe(
        Effect.map((rows) => Number(rows[0]?.n)),
        Effect.filterOrFail((n) => n === 0),
        Effect.retry(Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(40))),
        Effect.orElseSucceed(() => -1)
      )
      assert.strictEqual(left, 0)
    })
  )

  it.effect("discovery lists tables, views and fields", () =>
    Effect.gen(function* () {
      const schema = yield* driver.discoverSchema(contextFor(db), new Database.SchemaRequest({}))
      const items = schema.tables.find((t) => t.name === "items")
      assert.isDefined(items)
      assert.strictEqual(items?.kind, "table")
      assert.deepStrictEqual(
        items?.fields.map((f) => [f.name, f.type, f.nullable, f.primaryKey]),
        [
          ["id", "int(11)", false, true],
          ["name", "varchar(40)", false, false],
          ["note", "text", true, false]
        ]
      )
      assert.strictEqual(items?.fields[0]?.default, "AUTO_INCREMENT")
      assert.strictEqual(schema.tables.find((t) => t.name === "item_names")?.kind, "view")
    })
  )

  it.effect("guarded DDL: the preview runs nothing; destructive DDL on a non-empty table needs a reason", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() =>
        admin(["CREATE TABLE pb_my.doomed (id INT)", "INSERT INTO pb_my.doomed VALUES (1), (2), (3)"])
      )
      const context = contextFor(db)
      const sql = "ALTER TABLE doomed ADD COLUMN extra INT; DROP TABLE doomed"
      const preview = yield* driver.executeDdl(
        context,
        new Database.DdlRequest({ sql, confirm: false, timeoutMillis: 10_000 })
      )
      assert.isFalse(preview.executed)
      assert.isTrue(preview.reasonRequired)
      assert.deepStrictEqual(
        preview.statements.map((s) => [s.kind, s.destructive]),
        [
          ["alter", false],
          ["drop", true]
        ]
      )
      assert.deepStrictEqual(preview.statements[1]?.tables, [{ name: "pb_my.doomed", rows: 3 }])
      const columns = () =>
        admin([
          "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'pb_my' AND TABLE_NAME = 'doomed'"
        ])
      assert.strictEqual(Number((yield* Effect.promise(columns))[0]?.n), 1)

      const refused = yield* Effect.exit(
        driver.executeDdl(context, new Database.DdlRequest({ sql, confirm: true, timeoutMillis: 10_000 }))
      )
      assert.strictEqual(failureOf(refused)._tag, "DdlNeedsReason")
      assert.strictEqual(Number((yield* Effect.promise(columns))[0]?.n), 1)

      const done = yield* driver.executeDdl(
        context,
        new Database.DdlRequest({ sql, confirm: true, reason: "retire table", timeoutMillis: 10_000 })
      )
      assert.isTrue(done.executed)
      assert.strictEqual(Number((yield* Effect.promise(columns))[0]?.n), 0)
    })
  )

  it.effect("guarded DDL refuses what it cannot classify, and non-DDL", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      for (const sql of [
        "CREATE OR REPLACE TABLE items (id INT)",
        "DELETE FROM items",
        "GRANT ALL ON *.* TO pb_reader",
        "DROP DATABASE pb_my"
      ]) {
        const exit = yield* Effect.exit(
          driver.executeDdl(
            context,
            new Database.DdlRequest({ sql, confirm: true, reason: "x", timeoutMillis: 10_000 })
          )
        )
        assert.strictEqual(failureOf(exit)._tag, "DdlRejected", sql)
      }
      const rows = yield* Effect.promise(() => admin(["SELECT COUNT(*) AS n FROM pb_my.items"]))
      assert.strictEqual(Number(rows[0]?.n), 5)
    })
  )
})
