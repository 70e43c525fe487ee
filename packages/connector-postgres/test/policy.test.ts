import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as SqlPolicy from "../src/SqlPolicy.js"

const writable: SqlPolicy.Settings = { readOnly: false, allowSideEffects: false }
const permissive: SqlPolicy.Settings = { readOnly: false, allowSideEffects: true }
const readOnlyAllowing: SqlPolicy.Settings = { readOnly: true, allowSideEffects: true }

const plan = (sql: string, settings = writable) => SqlPolicy.planQuery(sql, settings)
const refusal = (sql: string, settings = writable) => Effect.flip(plan(sql, settings))

/** Tries every case and returns the ones that did not come out as expected (the corpus's failures). */
const misses = <A, E>(cases: ReadonlyArray<A>, check: (a: A) => Effect.Effect<boolean, E>) =>
  Effect.forEach(cases, (a) =>
    check(a).pipe(
      Effect.orElseSucceed(() => false),
      Effect.map((ok) => (ok ? [] : [a]))
    )
  ).pipe(Effect.map((r) => r.flat()))

describe("Run Query statements", () => {
  it.effect("accepts queries and DML, WITH of these, VALUES", () =>
    Effect.gen(function* () {
      const accepted = [
        ["SELECT 1", "SELECT"],
        ["values (1), (2)", "SELECT"],
        ["SELECT * FROM t UNION ALL SELECT * FROM u", "SELECT"],
        ["INSERT INTO t VALUES ($1)", "INSERT"],
        ["UPDATE t SET x = 1 WHERE id = $1", "UPDATE"],
        ["DELETE FROM t WHERE id = 1", "DELETE"],
        ["MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = s.x", "MERGE"],
        ["WITH a AS (SELECT 1), b AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM a, b", "SELECT"],
        ["WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r", "SELECT"],
        ["/* comment; DROP TABLE t */ SELECT 1 -- ; TRUNCATE t", "SELECT"],
        ["SELECT * FROM t FOR UPDATE", "SELECT"]
      ] as const
      for (const [sql, command] of accepted) {
        const result = yield* plan(sql)
        assert.strictEqual(result.command, command, sql)
      }
    })
  )

  it.effect("refuses everything else, naming Execute DDL, at the statement's position", () =>
    Effect.gen(function* () {
      const refused: ReadonlyArray<readonly [string, string]> = [
        ["DROP TABLE t", "DROP TABLE"],
        ["drop table if exists t cascade", "DROP TABLE"],
        ['DrOp TaBlE "T"', "DROP TABLE"],
        ["TRUNCATE t", "TRUNCATE"],
        ["truncate only public.t restart identity cascade", "TRUNCATE"],
        ["CREATE TABLE x (id int)", "CREATE TABLE"],
        ["CREATE TABLE x AS SELECT 1", "CREATE TABLE AS"],
        ["SELECT 1 INTO x", "SELECT INTO"],
        ["SELECT * INTO TEMP x FROM t", "SELECT INTO"],
        ["ALTER TABLE t DROP COLUMN x", "ALTER TABLE"],
        ["ALTER TABLE t ALTER x TYPE int USING 0", "ALTER TABLE"],
        ["CREATE INDEX ON t (x)", "CREATE INDEX"],
        ["GRANT ALL ON t TO PUBLIC", "GRANT/REVOKE"],
        ["COPY t FROM STDIN", "COPY"],
        ["COPY t TO PROGRAM 'rm -rf /'", "COPY"],
        ["COPY (SELECT 1) TO '/tmp/x'", "COPY"],
        ["DO $$ BEGIN DELETE FROM t; END $$", "DO"],
        ["CALL p()", "CALL"],
        ["BEGIN", "transaction control"],
        ["COMMIT", "transaction control"],
        ["ROLLBACK", "transaction control"],
        ["SAVEPOINT s", "transaction control"],
        ["START TRANSACTION READ WRITE", "transaction control"],
        ["LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "LOCK"],
        ["SET statement_timeout = 0", "SET"],
        ["SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "SET"],
        ["SET ROLE postgres", "SET"],
        ["SET session_replication_role = replica", "SET"],
        ["RESET ALL", "RESET"],
        ["RESET default_transaction_read_only", "RESET"],
        ["SHOW search_path", "SHOW"],
        ["EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN"],
        ["PREPARE p AS DELETE FROM t", "PREPARE"],
        ["EXECUTE p", "EXECUTE"],
        ["VACUUM FULL t", "VACUUM/ANALYZE"],
        ["CLUSTER t", "CLUSTER"],
        ["DISCARD ALL", "DISCARD"],
        ["LISTEN x", "LISTEN"],
        ["NOTIFY x", "NOTIFY"],
        ["DECLARE c CURSOR FOR SELECT 1", "DECLARE"],
        ["REFRESH MATERIALIZED VIEW m", "REFRESH MATERIALIZED VIEW"],
        ["CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "CREATE FUNCTION"],
        ["CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM u", "CREATE RULE"],
        ["DROP DATABASE d", "DROP DATABASE"],
        ["ALTER SYSTEM SET fsync = off", "ALTER SYSTEM"],
        ["CREATE ROLE r SUPERUSER", "CREATE ROLE"],
        ["DROP OWNED BY CURRENT_USER", "DROP OWNED"],
        ["CREATE EXTENSION dblink", "CREATE EXTENSION"],
        ["   -- leading comment\n  TRUNCATE t", "TRUNCATE"]
      ]
      const failed = yield* misses(refused, ([sql, name]) =>
        refusal(sql).pipe(
          Effect.map(
            (error) =>
              error.kind === "statement" &&
              error.detail.startsWith(`${name} is refused`) &&
              error.detail.includes("Execute DDL") &&
              error.position === sql.length - sql.replace(/^(\s+|--[^\n]*\n)*/, "").length + 1
          )
        )
      )
      assert.deepStrictEqual(failed, [], `statement class: ${refused.length} tries`)
    })
  )

  it.effect("one statement per call; nothing to run is refused", () =>
    Effect.gen(function* () {
      const two = yield* refusal("SELECT 1; DELETE FROM t")
      assert.strictEqual(two.kind, "statement")
      assert.include(two.detail, "one statement")
      assert.strictEqual(two.position, 11)
      const hidden = yield* refusal("SELECT 'a;b'; /* x */ TRUNCATE t")
      assert.include(hidden.detail, "this request has 2")
      const empty = yield* refusal("-- nothing")
      assert.include(empty.detail, "no SQL statement")
    })
  )

  it.effect("a syntax error is refused with the parser's message and position", () =>
    Effect.gen(function* () {
      const error = yield* refusal("SELEC 1")
      assert.strictEqual(error.kind, "syntax")
      assert.include(error.detail, 'syntax error at or near "SELEC"')
      assert.strictEqual(error.position, 1)
      const rejected = SqlPolicy.toRequestRejected(error, "db:5432/x")
      assert.strictEqual(rejected.status, "42601")
      assert.include(rejected.message, 'syntax error at or near "SELEC"')
    })
  )
})

/** Side-effect calls in every spelling the parser normalises: case, quoting, qualification, nesting. */
const sideEffectCorpus: ReadonlyArray<readonly [string, string]> = [
  ["SELECT dblink('dbname=x', 'DELETE FROM t')", "remote_connection"],
  ["SELECT DBLINK_EXEC('dbname=x', 'TRUNCATE t')", "remote_connection"],
  ['SELECT "dblink_exec"($1, $2)', "remote_connection"],
  ["SELECT public.dblink_exec('', '')", "remote_connection"],
  ["SELECT \"public\".\"dblink_connect\"('c', '')", "remote_connection"],
  ["SELECT * FROM dblink('', 'select 1') AS r(x int)", "remote_connection"],
  ["SELECT U&\"d\\0062link_exec\"('', '')", "remote_connection"],
  ["SELECT pg_background_launch('DELETE FROM t')", "remote_connection"],
  ["SELECT pg_advisory_lock(1)", "session_advisory_lock"],
  ["SELECT pg_catalog.pg_try_advisory_lock(1, 2)", "session_advisory_lock"],
  ["SELECT PG_ADVISORY_LOCK_SHARED(1)", "session_advisory_lock"],
  ["SELECT lo_import('/etc/passwd')", "large_object_file"],
  ["SELECT pg_catalog.lo_export(1, '/tmp/x')", "large_object_file"],
  ["SELECT pg_read_file('/etc/passwd')", "server_file"],
  ["SELECT pg_catalog.pg_read_binary_file('/etc/passwd')", "server_file"],
  ["SELECT * FROM pg_ls_dir('.')", "server_file"],
  ["SELECT pg_stat_file('postgresql.conf')", "server_file"],
  ["SELECT ('/etc/passwd'::text).pg_read_file", "server_file"],
  ["SELECT (x).pg_read_file FROM (SELECT '/etc/hostname'::text AS x) s", "server_file"],
  ["SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "backend_signal"],
  ['SELECT "pg_catalog"."pg_cancel_backend"(1)', "backend_signal"],
  ["SELECT pg_reload_conf()", "server_state"],
  ["SELECT pg_stat_reset()", "server_state"],
  ["SELECT pg_drop_replication_slot('s')", "server_state"],
  ["SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')", "dynamic_sql"],
  ["SELECT ts_stat('SELECT 1')", "dynamic_sql"],
  ["WITH a AS (WITH b AS (SELECT pg_read_file('x')) SELECT * FROM b) SELECT * FROM a", "server_file"],
  ["SELECT 1 WHERE EXISTS (SELECT pg_sleep(0), pg_terminate_backend(1))", "backend_signal"],
  ["SELECT CASE WHEN true THEN lo_import('/x') END", "large_object_file"],
  ["SELECT coalesce(null, pg_read_file('/x'))", "server_file"],
  ["SELECT ARRAY(SELECT pg_ls_dir('.'))", "server_file"],
  ["INSERT INTO t SELECT pg_read_file('/etc/passwd')", "server_file"],
  ["UPDATE t SET x = pg_advisory_lock(1) WHERE id = 1", "session_advisory_lock"],
  ["DELETE FROM t WHERE id = (SELECT pg_terminate_backend(1)::int)", "backend_signal"],
  ["SELECT * FROM ROWS FROM (pg_ls_dir('.')) AS r", "server_file"],
  ["SELECT /* pg_read_file */ pg_read_file(/* x */ '/x')", "server_file"],
  ["SELECT pg_read_file\n(\n'/x'\n)", "server_file"]
]

describe("side-effect functions", () => {
  it.effect("are refused on a writable instance unless allowed, in every spelling", () =>
    Effect.gen(function* () {
      const failed = yield* misses(sideEffectCorpus, ([sql, kind]) =>
        refusal(sql).pipe(
          Effect.map((e) => e.kind === "side_effect" && e.detail.includes(`(${kind})`) && e.position !== undefined)
        )
      )
      assert.deepStrictEqual(failed, [], `side-effect class: ${sideEffectCorpus.length} tries`)
    })
  )

  it.effect("are allowed and reported when the instance allows them", () =>
    Effect.gen(function* () {
      const result = yield* plan("SELECT dblink_exec('', ''), pg_advisory_lock(1)", permissive)
      assert.deepStrictEqual(
        result.sideEffects.map((e) => [e.name, e.kind, e.position]),
        [
          ["dblink_exec", "remote_connection", 8],
          ["pg_advisory_lock", "session_advisory_lock", 29]
        ]
      )
      assert.isTrue(result.observe)
    })
  )

  it.effect("are always refused on a read-only instance", () =>
    Effect.gen(function* () {
      const failed = yield* misses(sideEffectCorpus, ([sql]) =>
        refusal(sql, readOnlyAllowing).pipe(
          Effect.map((e) => e.kind === "side_effect" && e.detail.includes("read-only"))
        )
      )
      assert.deepStrictEqual(failed, [])
    })
  )

  it.effect("transaction-scoped locks and harmless functions pass", () =>
    Effect.gen(function* () {
      for (const sql of [
        "SELECT pg_advisory_xact_lock(1)",
        "SELECT pg_sleep(0), now(), count(*) FROM t",
        "SELECT dblink_status FROM t",
        "SELECT set_config('app.tenant', $1, true)",
        "SELECT set_config('TimeZone', 'UTC', true)"
      ]) {
        yield* plan(sql)
      }
    })
  )
})

describe("settings that weaken the guards", () => {
  it.effect("set_config is refused for guard settings, non-literal names and session scope", () =>
    Effect.gen(function* () {
      const corpus = [
        "SELECT set_config('transaction_read_only', 'off', true)",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT pg_catalog.set_config('statement_timeout', '0', true)",
        "SELECT \"set_config\"('session_replication_role', 'replica', true)",
        "SELECT set_config('role', 'postgres', true)",
        "SELECT set_config('search_path', 'evil', true)",
        "SELECT set_config('row_security', 'off', true)",
        "SELECT set_config('lock_timeout', '0', true)",
        "SELECT set_config($1, 'off', true)",
        "SELECT set_config(lower('STATEMENT_TIMEOUT'), '0', true)",
        "SELECT set_config('app.tenant', '1', false)",
        "SELECT set_config('app.tenant', '1', $1)",
        "SELECT 1 FROM t WHERE set_config('statement_timeout', '0', true) IS NOT NULL",
        "WITH s AS (SELECT set_config('idle_in_transaction_session_timeout', '0', true)) SELECT * FROM s"
      ]
      const failed = yield* misses(corpus, (sql) =>
        Effect.map(refusal(sql, permissive), (e) => e.kind === "setting" && e.position !== undefined)
      )
      assert.deepStrictEqual(failed, [], `setting class: ${corpus.length} tries`)
    })
  )
})

describe("DELETE and UPDATE targets", () => {
  it.effect("names targets at any depth and marks table-wide conditions", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string, boolean]>]> = [
        ["DELETE FROM t", [["t", "delete", true]]],
        ["DELETE FROM ONLY s.t", [["s.t", "delete", true]]],
        ["DELETE FROM t WHERE true", [["t", "delete", true]]],
        ["DELETE FROM t WHERE 1 = 1", [["t", "delete", true]]],
        ["DELETE FROM t WHERE $1", [["t", "delete", true]]],
        ["DELETE FROM t WHERE id = id", [["t", "delete", true]]],
        ["DELETE FROM t WHERE id IS NOT DISTINCT FROM id", [["t", "delete", true]]],
        ["DELETE FROM t WHERE id = 5 OR true", [["t", "delete", true]]],
        ["DELETE FROM t WHERE id = 5 OR 'a' = 'a'", [["t", "delete", true]]],
        ["DELETE FROM t WHERE EXISTS (SELECT 1 FROM u)", [["t", "delete", true]]],
        ["DELETE FROM t WHERE (true) IS TRUE", [["t", "delete", true]]],
        ["DELETE FROM t WHERE id = 5", [["t", "delete", false]]],
        ["DELETE FROM t WHERE id > 0", [["t", "delete", false]]],
        ['UPDATE "T" SET x = 1', [["T", "update", true]]],
        ["UPDATE t SET x = 1 WHERE id = $1", [["t", "update", false]]],
        [
          "WITH d AS (DELETE FROM a RETURNING *) UPDATE b SET x = 1 WHERE y IN (SELECT y FROM d)",
          [
            ["b", "update", false],
            ["a", "delete", true]
          ]
        ],
        [
          "WITH x AS (WITH y AS (DELETE FROM deep RETURNING 1) SELECT * FROM y) SELECT * FROM x",
          [["deep", "delete", true]]
        ],
        ["MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", [["t", "merge", true]]],
        ["MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = 1", [["t", "merge", false]]],
        ["MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (1)", []],
        ["INSERT INTO t SELECT * FROM t ON CONFLICT (id) DO UPDATE SET x = 0", [["t", "upsert", false]]],
        ["INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", []],
        ["SELECT 1", []]
      ]
      for (const [sql, expected] of cases) {
        const result = yield* plan(sql)
        assert.deepStrictEqual(
          result.writes.map((w) => [
            w.schema === undefined ? w.name : `${w.schema}.${w.name}`,
            w.command,
            w.wholeTable
          ]),
          expected.map((e) => [...e]),
          sql
        )
      }
    })
  )

  it.effect("observe: statements that write or call functions outside read-only built-ins", () =>
    Effect.gen(function* () {
      assert.isFalse((yield* plan("SELECT count(*), now() FROM t")).observe)
      assert.isFalse((yield* plan("INSERT INTO t VALUES (1)")).observe)
      assert.isTrue((yield* plan("SELECT wipe()")).observe)
      assert.isTrue((yield* plan("SELECT public.count(*) FROM t")).observe)
      assert.isTrue((yield* plan("INSERT INTO t VALUES (f())")).observe)
      assert.isTrue((yield* plan("DELETE FROM t WHERE id = 1")).observe)
    })
  )
})

describe("DDL", () => {
  const ddlRefusal = (sql: string, settings = writable) => Effect.flip(SqlPolicy.checkDdl(sql, settings))

  it.effect("refuses side-effect functions anywhere in DDL, in function bodies and definitions", () =>
    Effect.gen(function* () {
      const corpus = [
        "CREATE TABLE x AS SELECT pg_read_file('/etc/passwd') AS f",
        "CREATE TABLE x (id int DEFAULT pg_advisory_lock(1))",
        "CREATE VIEW v AS SELECT dblink_exec('', '')",
        "ALTER TABLE t ADD COLUMN c text DEFAULT pg_ls_dir('.')",
        "CREATE INDEX ON t ((pg_terminate_backend(id)))",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT pg_terminate_backend(1)::int $$",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT pg_cancel_backend(1)::int; END",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM dblink_exec('', ''); END $$",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM \"pg_catalog\".lo_import('/x'); END $$",
        "CREATE FUNCTION f(int) RETURNS int LANGUAGE internal AS 'int4abs'",
        "CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'lib', 'sym'",
        "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION dblink_exec()",
        "CREATE OPERATOR ### (FUNCTION = pg_terminate_backend, RIGHTARG = int)",
        "CREATE CAST (int AS text) WITH FUNCTION pg_read_file(int)",
        "CREATE EXTENSION dblink",
        'CREATE EXTENSION "adminpack" SCHEMA public',
        "CREATE EXTENSION plpython3u",
        "CREATE RULE r AS ON INSERT TO t DO ALSO SELECT pg_reload_conf()",
        "CREATE MATERIALIZED VIEW m AS SELECT query_to_xml('DELETE FROM t', true, true, '')",
        "CREATE TABLE ok (id int); CREATE TABLE bad AS SELECT pg_stat_file('x')"
      ]
      const failed = yield* misses(corpus, (sql) => Effect.map(ddlRefusal(sql), (e) => e.kind === "side_effect"))
      assert.deepStrictEqual(failed, [], `DDL side-effect class: ${corpus.length} tries`)
      const last = yield* ddlRefusal("CREATE TABLE ok (id int); CREATE TABLE bad AS SELECT pg_stat_file('x')")
      assert.strictEqual(last.position, 54)
      const setting = yield* ddlRefusal(
        "CREATE TABLE x AS SELECT set_config('statement_timeout', '0', true)",
        permissive
      )
      assert.strictEqual(setting.kind, "setting")
      const inBody = yield* ddlRefusal(
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT set_config('role', 'postgres', false) $$",
        permissive
      )
      assert.strictEqual(inBody.kind, "setting")
    })
  )

  it.effect("allowed side effects are reported; ordinary DDL passes", () =>
    Effect.gen(function* () {
      const allowed = yield* SqlPolicy.checkDdl("CREATE VIEW v AS SELECT dblink('', 'select 1')", permissive)
      assert.deepStrictEqual(
        allowed.map((e) => e.kind),
        ["remote_connection"]
      )
      const none = yield* SqlPolicy.checkDdl(
        "CREATE TABLE a (id serial PRIMARY KEY, t timestamptz DEFAULT now()); CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$; REVOKE EXECUTE ON FUNCTION g() FROM PUBLIC",
        writable
      )
      assert.deepStrictEqual(none, [])
      const readOnly = yield* ddlRefusal("CREATE VIEW v AS SELECT dblink('', 'select 1')", readOnlyAllowing)
      assert.include(readOnly.detail, "read-only")
    })
  )
})
