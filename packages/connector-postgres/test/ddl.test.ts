import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Effect } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import * as DdlClassifier from "../src/DdlClassifier.js"
import { contextFor, createFixture, type Fixture, makeDriver, serverPort } from "./helpers.js"

describe("DdlClassifier", () => {
  const classify = (sql: string) => Effect.runPromise(DdlClassifier.classify(sql))
  const reject = (sql: string) => Effect.runPromise(Effect.flip(DdlClassifier.classify(sql)))

  it("classifies kinds, targets and destructiveness", async () => {
    const statements = await classify(`
      CREATE TABLE a (id int PRIMARY KEY);
      CREATE INDEX ON s.b (x);
      ALTER TABLE a ADD COLUMN note text;
      ALTER TABLE a DROP COLUMN note;
      ALTER TABLE a DROP CONSTRAINT a_pkey;
      DROP TABLE a, s.b CASCADE;
      DROP VIEW v;
      DROP INDEX i;
      DROP SCHEMA old CASCADE;
      DROP TYPE mood CASCADE;
      TRUNCATE t1, s.t2;
      ALTER TABLE a RENAME TO b;
      ALTER TABLE b RENAME COLUMN x TO y;
      COMMENT ON TABLE b IS 'x';
      GRANT SELECT ON b TO PUBLIC;
      CREATE VIEW w AS SELECT 1;
      CREATE MATERIALIZED VIEW m AS SELECT 1;
      DROP MATERIALIZED VIEW m
    `)
    const shape = statements.map((s) => [
      s.kind,
      s.destructive,
      s.tables.map((t) => (t.schema ? `${t.schema}.${t.name}` : t.name)).join(","),
      s.unboundedScope
    ])
    assert.deepStrictEqual(shape, [
      ["create", false, "a", false],
      ["create", false, "s.b", false],
      ["alter", false, "a", false],
      ["alter", true, "a", false],
      ["alter", true, "a", false],
      ["drop", true, "a,s.b", false],
      ["drop", false, "v", false],
      ["drop", false, "", false],
      ["drop", true, "", false],
      ["drop", true, "", true],
      ["truncate", true, "t1,s.t2", false],
      ["rename", false, "a", false],
      ["rename", false, "b", false],
      ["other_ddl", false, "", false],
      ["other_ddl", false, "", false],
      ["create", false, "w", false],
      ["create", false, "m", false],
      ["drop", true, "m", false]
    ])
    assert.deepStrictEqual(statements[8]!.schemas, ["old"])
    assert.strictEqual(statements[0]!.sql, "CREATE TABLE a (id int PRIMARY KEY)")
  })

  it("splits by the parser's byte offsets, also after multi-byte text", async () => {
    const statements = await classify("COMMENT ON TABLE t IS 'héhé; ünïcode';CREATE TABLE ü (x int)")
    assert.deepStrictEqual(
      statements.map((s) => [s.sql, s.position]),
      [
        ["COMMENT ON TABLE t IS 'héhé; ünïcode'", 1],
        ["CREATE TABLE ü (x int)", 39]
      ]
    )
  })

  it("a syntax error is DdlRejected with the parser's message and 1-based position", async () => {
    const error = await reject("CREATE TABLE ok (id int);\nCREAT TABLE broken (id int)")
    assert.strictEqual(error._tag, "DdlRejected")
    assert.include(error.detail, 'syntax error at or near "CREAT"')
    assert.strictEqual(error.position, 27)
  })

  it("refuses statements that are not DDL, naming them", async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["SELECT 1", "SELECT"],
      ["INSERT INTO t VALUES (1)", "INSERT"],
      ["UPDATE t SET x = 1", "UPDATE"],
      ["DELETE FROM t", "DELETE"],
      ["COPY t FROM STDIN", "COPY"],
      ["DO $$ BEGIN END $$", "DO"],
      ["CALL p()", "CALL"],
      ["COMMIT", "transaction control"],
      ["SET search_path = x", "SET"],
      ["CREATE ROLE r", "CREATE ROLE"],
      ["VACUUM t", "VACUUM/ANALYZE"]
    ]
    for (const [sql, name] of cases) {
      const error = await reject(`CREATE TABLE t (x int); ${sql}`)
      assert.strictEqual(error._tag, "DdlRejected")
      assert.isTrue(error.detail.startsWith(`${name} is not DDL`), error.detail)
      assert.strictEqual(error.position, 25, sql)
    }
    const empty = await reject("  -- nothing\n")
    assert.include(empty.detail, "no SQL statement")
  })
})

let db: Fixture
const { pools, driver } = makeDriver()

beforeAll(async () => {
  db = await createFixture("pb_ddl")
})
afterAll(async () => {
  await Effect.runPromise(pools.closeAll)
  await db.drop()
})

const ddl = (sql: string, confirm: boolean, reason?: string) =>
  driver.executeDdl(
    contextFor(db),
    Database.DdlRequest.make({ sql, confirm, timeoutMillis: 10_000, ...(reason === undefined ? {} : { reason }) })
  )

const exists = (table: string) =>
  Effect.promise(() => db.sql("SELECT to_regclass($1) IS NOT NULL AS e", [table])).pipe(
    Effect.map((r) => r.rows[0].e as boolean)
  )
const count = (table: string) =>
  Effect.promise(() => db.sql(`SELECT count(*)::int AS n FROM ${table}`)).pipe(Effect.map((r) => r.rows[0].n as number))

describe("executeDdl", () => {
  it.effect("a preview reports kinds, the tables that lost data with their row counts, and leaves no trace", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() => db.sql("CREATE TABLE kept (id int); INSERT INTO kept SELECT generate_series(1, 42)"))
      const result = yield* ddl(
        "CREATE TABLE events (id serial PRIMARY KEY, name text); ALTER TABLE kept ADD COLUMN note text; DROP TABLE kept",
        false
      )
      assert.isFalse(result.executed)
      assert.isTrue(result.reasonRequired)
      assert.deepStrictEqual(
        result.statements.map((s) => [s.kind, s.destructive, s.tables.map((t) => [t.name, t.rows])]),
        [
          ["create", false, []],
          ["alter", false, []],
          ["drop", true, [["public.kept", 42]]]
        ]
      )
      assert.isFalse(yield* exists("events"))
      assert.isTrue(yield* exists("kept"))
      const columns = yield* Effect.promise(() =>
        db.sql("SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'kept'")
      )
      assert.strictEqual(columns.rows[0].n, 1)
    })
  )

  it.effect("DROP of a non-empty table without a reason is refused and the table is intact", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(ddl("CREATE TABLE side (x int); DROP TABLE kept", true))
      assert.strictEqual(error._tag, "DdlNeedsReason")
      if (error._tag === "DdlNeedsReason") assert.deepStrictEqual(error.tables, ["public.kept"])
      assert.strictEqual(yield* count("kept"), 42)
      assert.isFalse(yield* exists("side"), "nothing of the batch ran")
      const truncate = yield* Effect.flip(ddl("TRUNCATE kept", true))
      assert.strictEqual(truncate._tag, "DdlNeedsReason")
      const dropColumn = yield* Effect.flip(ddl("ALTER TABLE kept DROP COLUMN id", true))
      assert.strictEqual(dropColumn._tag, "DdlNeedsReason")
      assert.strictEqual(yield* count("kept"), 42)
    })
  )

  it.effect("destructive DDL on an empty or missing table needs no reason", () =>
    Effect.gen(function* () {
      const result = yield* ddl(
        "CREATE TABLE empty_one (x int); DROP TABLE empty_one; DROP TABLE IF EXISTS ghost",
        true
      )
      assert.isTrue(result.executed)
      assert.isFalse(result.reasonRequired)
      assert.isFalse(yield* exists("empty_one"))
    })
  )

  it.effect("with a reason the destructive batch runs and commits", () =>
    Effect.gen(function* () {
      const result = yield* ddl("CREATE TABLE archive (id int); DROP TABLE kept", true, "replaced by archive")
      assert.isTrue(result.executed)
      assert.isTrue(result.reasonRequired)
      assert.deepStrictEqual(result.statements[1]!.tables, [{ name: "public.kept", rows: 42 }])
      assert.isFalse(yield* exists("kept"))
      assert.isTrue(yield* exists("archive"))
    })
  )

  it.effect("a failing statement rolls the whole batch back", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        ddl(
          "CREATE TABLE first_one (x int); ALTER TABLE archive ADD COLUMN y int; ALTER TABLE nope ADD COLUMN z int",
          true
        )
      )
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, "statement 3")
      assert.include(error.message, 'relation "nope" does not exist')
      assert.isFalse(yield* exists("first_one"))
      const columns = yield* Effect.promise(() =>
        db.sql("SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'archive'")
      )
      assert.strictEqual(columns.rows[0].n, 1)
    })
  )

  it.effect("a statement over the timeout is TimedOut and rolled back", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() => db.sql("CREATE TABLE locked (x int)"))
      const error = yield* Effect.flip(
        Effect.acquireUseRelease(
          Effect.promise(async () => {
            const holder = new pg.Client({
              host: "127.0.0.1",
              port: serverPort,
              user: db.name,
              password: db.password,
              database: db.name
            })
            await holder.connect()
            await holder.query("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
            return holder
          }),
          () =>
            driver.executeDdl(
              contextFor(db),
              Database.DdlRequest.make({
                sql: "CREATE TABLE t_new (x int); ALTER TABLE locked ADD COLUMN y int",
                confirm: true,
                timeoutMillis: 300
              })
            ),
          (holder) => Effect.promise(() => holder.end())
        )
      )
      assert.strictEqual(error._tag, "TimedOut")
      assert.isFalse(yield* exists("t_new"))
    })
  )

  it.effect("syntax errors and non-DDL are refused before anything runs", () =>
    Effect.gen(function* () {
      const syntax = yield* Effect.flip(ddl("CREATE TABLE x (", true))
      assert.strictEqual(syntax._tag, "DdlRejected")
      if (syntax._tag === "DdlRejected") assert.isNumber(syntax.position)
      const dml = yield* Effect.flip(ddl("CREATE TABLE y (x int); INSERT INTO archive VALUES (1)", true))
      assert.strictEqual(dml._tag, "DdlRejected")
      assert.isFalse(yield* exists("y"))
    })
  )

  it.effect("a read-only instance refuses DDL", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        driver.executeDdl(
          contextFor(db, { configuration: { read_only: true } }),
          Database.DdlRequest.make({ sql: "CREATE TABLE z (x int)", confirm: true })
        )
      )
      assert.strictEqual(error._tag, "DdlRejected")
      assert.include(error.message, "read_only")
      assert.isFalse(yield* exists("z"))
    })
  )

  it.effect("DROP SCHEMA counts the tables it takes with it", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() =>
        db.sql(
          "CREATE SCHEMA old; CREATE TABLE old.a (x int); INSERT INTO old.a VALUES (1); CREATE TABLE old.b (x int)"
        )
      )
      const preview = yield* ddl("DROP SCHEMA old CASCADE", false)
      assert.deepStrictEqual(preview.statements[0]!.tables, [
        { name: "old.a", rows: 1 },
        { name: "old.b", rows: 0 }
      ])
      const error = yield* Effect.flip(ddl("DROP SCHEMA old CASCADE", true))
      assert.strictEqual(error._tag, "DdlNeedsReason")
      if (error._tag === "DdlNeedsReason") assert.deepStrictEqual(error.tables, ["old.a"])
    })
  )
})
