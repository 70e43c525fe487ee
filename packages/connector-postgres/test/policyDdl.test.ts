import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type pg from "pg"
import { afterAll, beforeAll } from "vitest"
import { createFixture, type Fixture } from "./helpers.js"
import { connect, fingerprint, guardedDdl, misses } from "./policyFixtures.js"

let db: Fixture

const rebuild = (owner: string) => `
  DROP SCHEMA IF EXISTS public CASCADE;
  DROP SCHEMA IF EXISTS s CASCADE;
  CREATE SCHEMA public;
  CREATE SCHEMA s;
  CREATE TYPE mood AS ENUM ('happy', 'sad');
  CREATE DOMAIN posint AS int CHECK (VALUE > 0);
  CREATE TABLE t (id int PRIMARY KEY, name text, price numeric(10, 2), m mood, p posint);
  INSERT INTO t SELECT i, 'name ' || i, i + 0.25, 'happy', i FROM generate_series(1, 50) i;
  CREATE TABLE plain (id int PRIMARY KEY, name text, price numeric(10, 2), m mood);
  INSERT INTO plain SELECT i, 'name ' || i, i + 0.25, 'sad' FROM generate_series(1, 20) i;
  CREATE TABLE "T" (x int);
  INSERT INTO "T" VALUES (1);
  CREATE TABLE s.t (x int);
  INSERT INTO s.t VALUES (1), (2);
  CREATE TABLE empty_t (x int);
  CREATE TABLE parent (id int PRIMARY KEY);
  INSERT INTO parent VALUES (1);
  CREATE TABLE child (pid int REFERENCES parent);
  INSERT INTO child VALUES (1), (1);
  CREATE TABLE empty_parent (id int PRIMARY KEY);
  CREATE TABLE ref_empty (pid int REFERENCES empty_parent, note text);
  INSERT INTO ref_empty VALUES (NULL, 'a'), (NULL, 'b');
  CREATE VIEW v AS SELECT id, name FROM t;
  CREATE MATERIALIZED VIEW mv AS SELECT * FROM v;
  CREATE FUNCTION plus1(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 + 1';
  CREATE TABLE gen (a int, b int GENERATED ALWAYS AS (plus1(a)) STORED);
  INSERT INTO gen (a) VALUES (1), (2);
  CREATE TABLE victim (id int);
  INSERT INTO victim SELECT generate_series(1, 10);
  CREATE FUNCTION wipe_definer() RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS
    $$ BEGIN DELETE FROM victim; RETURN 1; END $$;
  CREATE FUNCTION wipe_volatile() RETURNS int LANGUAGE plpgsql AS
    $$ BEGIN DELETE FROM victim WHERE id = (SELECT min(id) FROM victim); RETURN 0; END $$;
  CREATE SEQUENCE seq;
  CREATE TABLE pt (at int, v int) PARTITION BY RANGE (at);
  CREATE TABLE pt_a PARTITION OF pt FOR VALUES FROM (0) TO (100);
  INSERT INTO pt VALUES (1, 1);
  CREATE TABLE locked (x int);
  ALTER TABLE locked ENABLE ROW LEVEL SECURITY;
  ALTER TABLE locked FORCE ROW LEVEL SECURITY;
  CREATE TABLE blind (x int);
  REVOKE SELECT ON blind FROM ${owner};
  CREATE TABLE inh_parent (a int, c int);
  CREATE TABLE inh_child () INHERITS (inh_parent);
  INSERT INTO inh_child VALUES (1, 1);
`

const watched = [
  "t",
  "plain",
  '"T"',
  "s.t",
  "parent",
  "child",
  "ref_empty",
  "mv",
  "gen",
  "victim",
  "pt",
  "inh_child",
  "empty_t"
] as const

beforeAll(async () => {
  db = await createFixture("pb_policy_ddl")
})
afterAll(async () => {
  await db.drop()
})

/** The fixture's relations and columns, and every watched table's rows. */
const state = (client: pg.Client) =>
  Effect.gen(function* () {
    const catalog = yield* Effect.promise(() =>
      client.query(`SELECT string_agg(c.relname || ':' || a.attname || ':' || a.atttypid || ':' || c.relfilenode, ',' ORDER BY 1)
                    AS s FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                    WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 's'))`)
    )
    const rows = yield* Effect.forEach(watched, (t) =>
      Effect.promise(() => client.query("SELECT to_regclass($1) IS NOT NULL AS e", [t])).pipe(
        Effect.flatMap((r) => (r.rows[0].e === true ? fingerprint(client, t) : Effect.succeed("missing")))
      )
    )
    return `${catalog.rows[0].s}|${rows.join(",")}`
  })

const connectOwner = () => connect(db.name, { user: db.name, password: db.password })

describe("observed DDL effects", () => {
  it.scoped(
    "loss of data from non-empty (or unprovable) objects needs a reason; refused batches leave everything intact",
    () =>
      Effect.gen(function* () {
        const owner = yield* connectOwner()
        const corpus: ReadonlyArray<readonly [string, string]> = [
          ["DROP TABLE t CASCADE", "relation_dropped public.t"],
          ['drop table "T"', "relation_dropped public.T"],
          ["DROP TABLE IF EXISTS s.t", "relation_dropped s.t"],
          ["DROP SCHEMA s CASCADE", "relation_dropped s.t"],
          ["DROP VIEW v CASCADE", "relation_dropped public.mv"],
          ["DROP MATERIALIZED VIEW mv", "relation_dropped public.mv"],
          ["DROP TYPE mood CASCADE", "column_dropped public.t.m"],
          ["DROP DOMAIN posint CASCADE", "column_dropped public.t.p"],
          ["DROP FUNCTION plus1(int) CASCADE", "column_dropped public.gen.b"],
          ["TRUNCATE t", "rows_removed public.t"],
          ["TRUNCATE parent CASCADE", "rows_removed public.child"],
          ["TRUNCATE empty_parent CASCADE", "rows_removed public.ref_empty"],
          ["ALTER TABLE plain DROP COLUMN name", "column_dropped public.plain.name"],
          ["ALTER TABLE plain ALTER name TYPE int USING 0", "column_rewritten public.plain.name"],
          ["ALTER TABLE plain ALTER name TYPE varchar(3) USING left(name, 3)", "column_rewritten public.plain.name"],
          ["ALTER TABLE plain ALTER price TYPE numeric(10, 0)", "column_rewritten public.plain.price"],
          ["ALTER TABLE plain ALTER name TYPE text USING NULL", "column_rewritten public.plain.name"],
          [
            "CREATE TABLE x AS WITH d AS (DELETE FROM victim RETURNING *) SELECT * FROM d",
            "rows_written public.victim"
          ],
          ["CREATE TABLE x AS SELECT wipe_definer()", "rows_written public.victim"],
          ['CREATE TABLE x AS SELECT public."wipe_definer"() AS y', "rows_written public.victim"],
          ["ALTER TABLE t ADD COLUMN c int DEFAULT wipe_volatile()", "rows_written public.victim"],
          ["CREATE MATERIALIZED VIEW m2 AS SELECT wipe_definer()", "rows_written public.victim"],
          ["DROP OWNED BY CURRENT_USER", "relation_dropped public.t"],
          ["DROP TABLE pt", "relation_dropped public.pt_a"],
          ["ALTER TABLE inh_parent DROP COLUMN c", "column_dropped public.inh_child.c"],
          ["DROP TABLE locked", "relation_dropped public.locked"],
          ["DROP TABLE blind", "relation_dropped public.blind"],
          ["CREATE TABLE y (x int); DROP TABLE t CASCADE", "relation_dropped public.t"],
          ["ALTER TABLE t RENAME TO t2; DROP TABLE t2 CASCADE", "relation_dropped public.t2"],
          ["CREATE TABLE copy AS SELECT * FROM t; TRUNCATE t", "rows_removed public.t"],
          [
            "ALTER TABLE child RENAME COLUMN pid TO parent; ALTER TABLE child DROP COLUMN parent",
            "column_dropped public.child.parent"
          ]
        ]
        const failed = yield* misses(corpus, ([sql, effect]) =>
          Effect.gen(function* () {
            yield* Effect.promise(() => owner.query(rebuild(db.name)))
            const before = yield* state(owner)
            const refused = yield* Effect.either(guardedDdl(owner, sql, { confirm: true }))
            const refusedOk =
              refused._tag === "Left" && refused.left._tag === "NeedsReason" && refused.left.tables.includes(effect)
            const intact = (yield* state(owner)) === before
            const preview = yield* guardedDdl(owner, sql, { confirm: false })
            const previewOk =
              preview.reasonRequired &&
              preview.statements.some((s) => s.effects.some((e) => `${e.kind} ${e.object}` === effect)) &&
              (yield* state(owner)) === before
            const done = yield* guardedDdl(owner, sql, { confirm: true, reason: "planned" })
            const ran = done.executed && (yield* state(owner)) !== before
            if (!(refusedOk && intact && previewOk && ran)) {
              yield* Effect.log(sql, { refusedOk, intact, previewOk, ran, refused, preview: preview.statements })
            }
            return refusedOk && intact && previewOk && ran
          })
        )
        assert.deepStrictEqual(failed, [], `DDL loss class: ${corpus.length} tries`)
      })
  )

  it.scoped("no loss, or loss from empty objects, needs no reason; replacements and sequences are reported", () =>
    Effect.gen(function* () {
      const owner = yield* connectOwner()
      const corpus: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
        ["DROP TABLE empty_t", ["relation_dropped public.empty_t"]],
        ["CREATE TABLE a (x int); DROP TABLE a", ["relation_dropped public.a"]],
        ["ALTER TABLE plain ALTER id TYPE bigint", ["rewritten public.plain"]],
        ["ALTER TABLE plain ALTER name TYPE varchar(100)", ["rewritten public.plain"]],
        ["ALTER TABLE plain ALTER m TYPE text", ["rewritten public.plain"]],
        ["ALTER TABLE t ADD COLUMN c int DEFAULT 0", []],
        ["ALTER TABLE t SET UNLOGGED", ["rewritten public.t"]],
        ["CREATE VIEW v2 AS SELECT 1 AS one; DROP VIEW v2", ["object_dropped public.v2"]],
        ["CREATE OR REPLACE VIEW v AS SELECT id, name FROM t WHERE id > 0", ["replaced public.v"]],
        [
          "CREATE OR REPLACE FUNCTION plus1(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 + 2'",
          ["replaced public.plus1(integer)"]
        ],
        ["REFRESH MATERIALIZED VIEW mv", ["refreshed public.mv"]],
        ["ALTER TABLE child DROP CONSTRAINT child_pid_fkey", []],
        ["CREATE INDEX i ON t (name); DROP INDEX i", []],
        ["CREATE TABLE x AS SELECT nextval('seq') AS n", ["sequence_advanced public.seq"]],
        ["TRUNCATE empty_t", ["rewritten public.empty_t"]]
      ]
      for (const [sql, expected] of corpus) {
        yield* Effect.promise(() => owner.query(rebuild(db.name)))
        const result = yield* guardedDdl(owner, sql, { confirm: true }).pipe(
          Effect.mapError((e) => new Error(`${sql}: ${JSON.stringify(e)}`))
        )
        assert.isTrue(result.executed, sql)
        assert.isFalse(result.reasonRequired, sql)
        const seen = result.statements.flatMap((s) =>
          s.effects.filter((e) => !e.loss || e.rows === 0).map((e) => `${e.kind} ${e.object}`)
        )
        assert.deepStrictEqual(seen, [...expected], sql)
      }
    })
  )

  it.scoped("a preview reports effects with row counts and leaves no trace", () =>
    Effect.gen(function* () {
      const owner = yield* connectOwner()
      yield* Effect.promise(() => owner.query(rebuild(db.name)))
      const before = yield* state(owner)
      const preview = yield* guardedDdl(owner, "DROP VIEW v CASCADE; TRUNCATE parent CASCADE; DROP TABLE empty_t", {
        confirm: false
      })
      assert.isTrue(preview.reasonRequired)
      assert.deepStrictEqual(
        preview.statements.map((s) => s.effects.map((e) => [e.kind, e.object, e.rows, e.loss])),
        [
          [
            ["object_dropped", "public.v", null, false],
            ["relation_dropped", "public.mv", 50, true]
          ],
          [
            ["rows_removed", "public.parent", 1, true],
            ["rows_removed", "public.child", 2, true]
          ],
          [["relation_dropped", "public.empty_t", 0, true]]
        ]
      )
      assert.strictEqual(yield* state(owner), before)
    })
  )
})
