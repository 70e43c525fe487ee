import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type pg from "pg"
import { afterAll, beforeAll } from "vitest"
import type * as SqlPolicy from "../src/SqlPolicy.js"
import { admin, createFixture, type Fixture } from "./helpers.js"
import { connect, fingerprint, guardedQuery, misses } from "./policyFixtures.js"

let db: Fixture
const reader = { user: "pb_policy_w_reader", password: "reader-secret" }
const writable: SqlPolicy.Settings = { readOnly: false, allowSideEffects: false }

const tables = ["people", "one_row", "parent", "child", "measures", "rls_t", "secret_t", "empty_t"] as const

const reset = `
  TRUNCATE people, one_row, parent, child, measures, rls_t, secret_t, empty_t;
  INSERT INTO people SELECT i, 'person ' || i FROM generate_series(1, 100) i;
  INSERT INTO one_row VALUES (1, 'only');
  INSERT INTO parent SELECT generate_series(1, 10);
  INSERT INTO child SELECT 1, i FROM generate_series(1, 5) i;
  INSERT INTO measures SELECT i, i FROM generate_series(0, 19) i;
  INSERT INTO rls_t SELECT i, CASE WHEN i <= 5 THEN 'pb_policy_w_reader' ELSE 'other' END FROM generate_series(1, 20) i;
  INSERT INTO secret_t SELECT generate_series(1, 7);
`

beforeAll(async () => {
  db = await createFixture("pb_policy_w")
  await admin([`DROP ROLE IF EXISTS ${reader.user}`, `CREATE ROLE ${reader.user} LOGIN PASSWORD '${reader.password}'`])
  await db.sql(`
    CREATE TABLE people (id int PRIMARY KEY, name text);
    CREATE TABLE one_row (id int PRIMARY KEY, v text);
    CREATE TABLE parent (id int PRIMARY KEY);
    CREATE TABLE child (parent_id int REFERENCES parent ON DELETE CASCADE, n int);
    CREATE TABLE measures (at int, v int) PARTITION BY RANGE (at);
    CREATE TABLE measures_a PARTITION OF measures FOR VALUES FROM (0) TO (10);
    CREATE TABLE measures_b PARTITION OF measures FOR VALUES FROM (10) TO (100);
    CREATE TABLE rls_t (id int PRIMARY KEY, owner text);
    ALTER TABLE rls_t ENABLE ROW LEVEL SECURITY;
    CREATE POLICY mine ON rls_t USING (owner = current_user);
    CREATE TABLE secret_t (id int);
    CREATE TABLE empty_t (id int);
    CREATE VIEW people_view AS SELECT * FROM people;
    CREATE FUNCTION wipe() RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS
      $$ BEGIN DELETE FROM people; RETURN 1; END $$;
    GRANT SELECT, DELETE, UPDATE ON rls_t TO ${reader.user};
    GRANT DELETE ON secret_t TO ${reader.user};
    ${reset}
  `)
})
afterAll(async () => {
  await db.drop()
  await admin([`DROP ROLE IF EXISTS ${reader.user}`])
})

/** Every fixture table's fingerprint. */
const fingerprints = (client: pg.Client) => Effect.forEach(tables, (t) => fingerprint(client, t))

/**
 * Runs `sql` without a reason, expecting it refused as table-wide and every table intact; then
 * with a reason, expecting it to run and report the table. Returns whether all held.
 */
const refusedThenAllowed =
  (owner: pg.Client, client: pg.Client) =>
  ([sql, table]: readonly [string, string]) =>
    Effect.gen(function* () {
      yield* Effect.promise(() => owner.query(reset))
      const before = yield* fingerprints(owner)
      const refused = yield* Effect.either(guardedQuery(client, sql, { settings: writable }))
      const after = yield* fingerprints(owner)
      const refusedOk =
        refused._tag === "Left" &&
        refused.left._tag === "NeedsReason" &&
        refused.left.tables.some((t) => t.startsWith(`public.${table}`))
      const intact = JSON.stringify(before) === JSON.stringify(after)
      const allowed = yield* Effect.either(guardedQuery(client, sql, { settings: writable, reason: "cleanup" }))
      const ran = allowed._tag === "Right" && allowed.right.tableWide.some((t) => t.table === `public.${table}`)
      return refusedOk && intact && ran
    })

describe("table-wide DELETE and UPDATE", () => {
  it.scoped("are refused without a reason (tables intact), and run with one, by any path", () =>
    Effect.gen(function* () {
      const owner = yield* connect(db.name, { user: db.name, password: db.password })
      const corpus: ReadonlyArray<readonly [string, string]> = [
        ["DELETE FROM people", "people"],
        ["delete from PUBLIC.PEOPLE where true", "people"],
        ['DELETE FROM "people" WHERE 1 = 1', "people"],
        ["DELETE FROM people WHERE id = id", "people"],
        ["DELETE FROM people WHERE id > 0", "people"],
        ["DELETE FROM people WHERE id IS NOT NULL", "people"],
        ["DELETE FROM people WHERE name LIKE '%'", "people"],
        ["DELETE FROM people WHERE id = 5 OR true", "people"],
        ["DELETE FROM people WHERE id IN (SELECT id FROM people)", "people"],
        ["DELETE FROM people p USING people q WHERE p.id = q.id", "people"],
        ["DELETE FROM people WHERE id < 1000000", "people"],
        ["UPDATE people SET name = 'x'", "people"],
        ["UPDATE people SET name = NULL WHERE id BETWEEN -1000 AND 1000000", "people"],
        ["UPDATE people SET name = name", "people"],
        ["WITH d AS (DELETE FROM people RETURNING *) SELECT count(*) FROM d", "people"],
        [
          "WITH y AS (DELETE FROM people WHERE id < 1e9 RETURNING 1), x AS (SELECT * FROM y) SELECT count(*) FROM (SELECT * FROM x) z",
          "people"
        ],
        ["SELECT wipe()", "people"],
        ["SELECT public.wipe() WHERE true", "people"],
        ["DELETE FROM parent WHERE id = 1", "child"],
        ["MERGE INTO people USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE", "people"],
        ["INSERT INTO people SELECT * FROM people ON CONFLICT (id) DO UPDATE SET name = 'x'", "people"],
        ["DELETE FROM measures", "measures"],
        ["DELETE FROM measures WHERE v >= 0", "measures"],
        ["UPDATE people_view SET name = 'x'", "people_view"],
        ["DELETE FROM one_row", "one_row"]
      ]
      const failed = yield* misses(corpus, refusedThenAllowed(owner, owner))
      assert.deepStrictEqual(failed, [], `table-wide class: ${corpus.length} tries`)
    })
  )

  it.scoped("row-level security and a missing SELECT privilege count as unprovable", () =>
    Effect.gen(function* () {
      const owner = yield* connect(db.name, { user: db.name, password: db.password })
      const client = yield* connect(db.name, reader)
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["DELETE FROM rls_t WHERE id > 0", "rls_t"],
        ["UPDATE rls_t SET owner = owner WHERE id < 100", "rls_t"],
        ["DELETE FROM secret_t", "secret_t"]
      ]
      const failed = yield* misses(cases, refusedThenAllowed(owner, client))
      assert.deepStrictEqual(failed, [], `unprovable class: ${cases.length} tries`)
      // The role sees 5 of 20 rows: with a reason it deletes those, never the other 15.
      yield* Effect.promise(() => owner.query(reset))
      yield* guardedQuery(client, "DELETE FROM rls_t WHERE id > 0", { settings: writable, reason: "mine" })
      assert.strictEqual(yield* fingerprint(owner, "rls_t").pipe(Effect.map((f) => f.split(":")[0])), "15")
    })
  )

  it.scoped("targeted writes, the last row of a table, and empty tables need no reason", () =>
    Effect.gen(function* () {
      const owner = yield* connect(db.name, { user: db.name, password: db.password })
      yield* Effect.promise(() => owner.query(reset))
      const cases = [
        "DELETE FROM people WHERE id = 5",
        "UPDATE people SET name = 'y' WHERE id <= 50",
        "UPDATE people SET name = name WHERE id = 1",
        "DELETE FROM one_row WHERE id = 1",
        "DELETE FROM empty_t",
        "UPDATE empty_t SET id = 1",
        "DELETE FROM measures WHERE v < 5",
        "DELETE FROM parent WHERE id = 2",
        "WITH d AS (DELETE FROM people WHERE id BETWEEN 90 AND 95 RETURNING *) SELECT count(*) FROM d"
      ]
      for (const sql of cases) {
        const result = yield* guardedQuery(owner, sql, { settings: writable })
        assert.deepStrictEqual(result.tableWide, [], sql)
      }
      assert.strictEqual(yield* fingerprint(owner, "people").pipe(Effect.map((f) => f.split(":")[0])), "93")
      assert.strictEqual(yield* fingerprint(owner, "one_row").pipe(Effect.map((f) => f.split(":")[0])), "0")
    })
  )

  it.scoped("a reason runs the statement and reports what it touched", () =>
    Effect.gen(function* () {
      const owner = yield* connect(db.name, { user: db.name, password: db.password })
      yield* Effect.promise(() => owner.query(reset))
      const result = yield* guardedQuery(owner, "DELETE FROM people WHERE id > 0", {
        settings: writable,
        reason: "yearly purge"
      })
      assert.deepStrictEqual(result.tableWide, [{ table: "public.people", rows: 100, why: "every_row_touched" }])
      const whole = yield* guardedQuery(owner, "UPDATE measures SET v = 0", { settings: writable, reason: "reset" })
      assert.deepStrictEqual(whole.tableWide, [{ table: "public.measures", rows: 20, why: "no_restricting_where" }])
    })
  )
})
