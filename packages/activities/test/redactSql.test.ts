import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { redact, redactSql, unreadable } from "../src/internal/redactSql.js"
import { load, tokenize } from "../src/internal/sqlTokens.js"

describe("redactSql", () => {
  beforeAll(() => Effect.runPromise(load))

  it("masks role passwords, user mapping options and connection strings", () => {
    assert.strictEqual(
      redactSql("CREATE ROLE app LOGIN PASSWORD 'it''s-secret'"),
      "CREATE ROLE app LOGIN PASSWORD '***'"
    )
    assert.strictEqual(
      redactSql("alter role app encrypted password $x$hunter2$x$"),
      "alter role app encrypted password '***'"
    )
    assert.strictEqual(
      redactSql("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', password 'hunter2')"),
      "CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', password '***')"
    )
    assert.strictEqual(
      redactSql("CREATE SUBSCRIPTION s CONNECTION 'host=db password=hunter2 dbname=x' PUBLICATION p"),
      "CREATE SUBSCRIPTION s CONNECTION 'host=db password=*** dbname=x' PUBLICATION p"
    )
  })

  it("leaves SQL without passwords unchanged", () => {
    for (const sql of [
      "CREATE TABLE accounts (id int, password_hash text NOT NULL)",
      "SELECT 'it''s', E'a\\'b', $q$ x $q$, U&'d\\0061t' FROM t -- note\n/* c */",
      "CREATE ROLE app LOGIN PASSWORD NULL"
    ]) {
      assert.strictEqual(redactSql(sql), sql)
    }
  })

  it("covers every spelling: quoted keywords, comments between tokens, E'', U&'', dollar quoting, continuations", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      [`ALTER ROLE a "PASSWORD" 'hunter2'`, `ALTER ROLE a "PASSWORD" '***'`],
      [`ALTER ROLE a U&"p\\0061ssword" 'hunter2'`, `ALTER ROLE a U&"p\\0061ssword" '***'`],
      [`ALTER ROLE a PASSWORD /* 'decoy' */ 'hunter2'`, `ALTER ROLE a PASSWORD /* 'decoy' */ '***'`],
      ["ALTER ROLE a PASSWORD -- line\n 'hunter2'", "ALTER ROLE a PASSWORD -- line\n '***'"],
      [
        "ALTER ROLE a PASSWORD /* a /* nested */ 'x' */ 'hunter2'",
        "ALTER ROLE a PASSWORD /* a /* nested */ 'x' */ '***'"
      ],
      [`ALTER ROLE a PASSWORD E'hun\\'ter2'`, `ALTER ROLE a PASSWORD '***'`],
      [`ALTER ROLE a PASSWORD U&'!0068unter2' UESCAPE '!'`, `ALTER ROLE a PASSWORD '***' UESCAPE '!'`],
      ["ALTER ROLE a PASSWORD $pw$hunter2 $x$ still$pw$", "ALTER ROLE a PASSWORD '***'"],
      ["ALTER ROLE a PASSWORD 'hun'\n  'ter2'", "ALTER ROLE a PASSWORD '***'"],
      ["ALTER ROLE a PASSWORD'hunter2'", "ALTER ROLE a PASSWORD'***'"],
      [
        "ALTER USER MAPPING FOR a SERVER s OPTIONS (SET password 'hunter2')",
        "ALTER USER MAPPING FOR a SERVER s OPTIONS (SET password '***')"
      ],
      [
        "CREATE SERVER s FOREIGN DATA WRAPPER f OPTIONS (sslpassword 'hunter2')",
        "CREATE SERVER s FOREIGN DATA WRAPPER f OPTIONS (sslpassword '***')"
      ],
      ["SET app.password = 'hunter2'", "SET app.password = '***'"],
      ["SET app.api_key TO 'hunter2'", "SET app.api_key TO '***'"],
      ["SELECT set_config('app.password', 'hunter2', false)", "SELECT set_config('app.password', '***', false)"],
      [
        "SELECT dblink_connect('c', 'host=h user=u password=''hun ter2'' dbname=d')",
        "SELECT dblink_connect('c', 'host=h user=u password=*** dbname=d')"
      ],
      [
        "SELECT dblink('postgresql://u:hun%40ter2@h:5432/d', 'select 1')",
        "SELECT dblink('postgresql://u:***@h:5432/d', 'select 1')"
      ],
      [
        "SELECT dblink('postgresql://h/d?user=u&password=hunter2&sslmode=require', 'x')",
        "SELECT dblink('postgresql://h/d?user=u&password=***&sslmode=require', 'x')"
      ],
      [`SELECT dblink_connect(E'host=h pass\\x77ord=hunter2')`, `SELECT dblink_connect('host=h password=***')`],
      ["SELECT dblink_connect($$host=h PASSWORD = hunter2$$)", "SELECT dblink_connect('host=h PASSWORD = ***')"]
    ]
    for (const [sql, expected] of cases) {
      assert.strictEqual(redactSql(sql), expected, sql)
      assert.notInclude(redactSql(sql), "hunter2")
    }
  })

  /** The spellings of a string literal whose value is `value`. */
  const spell = (value: string, how: number, tag: string) => {
    switch (how) {
      case 0:
        return `'${value.replace(/'/g, "''")}'`
      case 1:
        return `E'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`
      case 2:
        return `$${tag}$${value}$${tag}$`
      case 3:
        return `U&'${[...value].map((c) => `\\${c.codePointAt(0)!.toString(16).padStart(4, "0")}`).join("")}'`
      default:
        return `U&'${[...value].map((c) => (c === "!" ? "!!" : c === "'" ? "''" : c)).join("")}' UESCAPE '!'`
    }
  }
  const keyword = fc.constantFrom("PASSWORD", "password", "PassWord", '"password"', 'U&"\\0070assword"', "sslpassword")
  const gap = fc.constantFrom(" ", "\n", " /* c */ ", " -- c\n ", "/**/", " /* /* n */ */ ", "\t")
  const secretValue = fc
    .string({ minLength: 6, maxLength: 30, unit: fc.constantFrom(..."abcXYZ019'\"\\$!;:/@ =-*é😀") })
    .filter((s) => !s.includes("***"))

  it.prop(
    "a password in any literal spelling after any spelling of the keyword never survives",
    [
      secretValue,
      keyword,
      gap,
      fc.integer({ min: 0, max: 4 }),
      fc.constantFrom("ALTER ROLE r WITH LOGIN ", "CREATE USER MAPPING FOR u SERVER s OPTIONS (ADD ", "ALTER ROLE r ")
    ],
    ([value, name, space, how, prefix]) => {
      const tag = value.includes("$q$") || value.endsWith("$q") ? "zz" : "q"
      const sql = `${prefix}${name}${space}${spell(value, how, tag)} VALID UNTIL 'infinity'`
      const redacted = redactSql(sql)
      assert.notInclude(redacted, value, sql)
      assert.include(redacted, "'***'", sql)
      assert.include(redacted, "VALID UNTIL 'infinity'", sql)
    },
    { fastCheck: { numRuns: 3000 } }
  )

  it.prop(
    "a password inside a connection string or URI in any literal spelling never survives",
    [
      fc.string({ minLength: 6, maxLength: 24, unit: fc.constantFrom(..."abcXYZ019!#%^*()[]{}.,-_~") }),
      fc.integer({ min: 0, max: 4 }),
      fc.constantFrom(
        (p: string) => `host=db port=5432 password=${p} dbname=x`,
        (p: string) => `host=db password = '${p.replace(/'/g, "\\'")}'`,
        (p: string) => `postgresql://app:${encodeURIComponent(p)}@db.example.com:5432/x`,
        (p: string) => `postgres://db/x?sslmode=require&password=${encodeURIComponent(p)}`
      )
    ],
    ([value, how, conninfo]) => {
      const sql = `SELECT * FROM dblink(${spell(conninfo(value), how, "q")}, 'select 1') AS t(x int)`
      const redacted = redactSql(sql)
      assert.notInclude(redacted, value, sql)
      assert.notInclude(redacted, encodeURIComponent(value), sql)
    },
    { fastCheck: { numRuns: 2000 } }
  )

  it.prop(
    "statements with no password come back unchanged",
    [
      fc.array(
        fc.oneof(
          fc.constantFrom(
            "SELECT",
            "id",
            "name",
            "FROM",
            "t",
            "WHERE",
            "=",
            ",",
            "(",
            ")",
            "1",
            "2.5e-3",
            "$1",
            "::",
            "text",
            "--c\n",
            "/* x */",
            ";"
          ),
          fc.string({ maxLength: 12, unit: fc.constantFrom(..."abc XYZ'\\$") }).map((v) => spell(v, 0, "q")),
          fc.string({ maxLength: 12, unit: fc.constantFrom(..."abc XYZ'\\") }).map((v) => spell(v, 1, "q"))
        ),
        { maxLength: 30 }
      )
    ],
    ([parts]) => {
      const sql = parts.join(" ")
      assert.strictEqual(redactSql(sql), sql)
    },
    { fastCheck: { numRuns: 1000 } }
  )

  it("a text the scanner refuses or does not read to its end is shown as none of its characters", () => {
    for (const sql of [
      "SELECT 'abc",
      'SELECT "abc',
      "SELECT /* abc",
      "SELECT $t$ abc",
      "SELECT E'abc\\",
      "ALTER ROLE a PASSWORD 'hunter2",
      "ALTER ROLE a PASSWORD E'\\uZZZZ hunter2'",
      "SELECT 1 \u0000; ALTER ROLE a PASSWORD 'hunter2'"
    ]) {
      assert.strictEqual(tokenize(sql), undefined, sql)
      assert.strictEqual(redactSql(sql), unreadable(sql), sql)
    }
  })

  it("masks bare setting values, literals it cannot decode and literals continued past comments", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["SET app.password = hunter2", "SET app.password = ***"],
      ["SET app.password TO 12345678", "SET app.password TO ***"],
      [`SET app.password = "hunter2"`, "SET app.password = ***"],
      [`ALTER ROLE a PASSWORD U&'!0068unter2' UESCAPE 'x'`, "ALTER ROLE a PASSWORD '***' UESCAPE 'x'"],
      [`SELECT U&'\\ZZZZhunter2'`, "SELECT '***'"],
      [`ALTER ROLE a U&"p!0061ssword" UESCAPE '!' 'hunter2'`, `ALTER ROLE a U&"p!0061ssword" UESCAPE '!' '***'`],
      ["ALTER ROLE a PASSWORD 'hun' -- c\n 'ter2'", "ALTER ROLE a PASSWORD '***' -- c\n "],
      [
        "SELECT dblink_connect('host=h pass' -- c\n 'word=hunter2')",
        "SELECT dblink_connect('host=h password=***' -- c\n )"
      ],
      [
        "SELECT 'é😀', 1 FROM t WHERE p = 'x' AND password = 'hunter2'",
        "SELECT 'é😀', 1 FROM t WHERE p = 'x' AND password = '***'"
      ]
    ]
    for (const [sql, expected] of cases) {
      assert.strictEqual(redactSql(sql), expected, sql)
    }
  })

  it("reads literals, comments and identifiers far longer than the scanner can report in one token", () => {
    const prose = "The quick brown fox, jumps over the lazy dog;\n ".repeat(200)
    const json = JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ id: i, name: `n${i}`, tags: ["a", "b"] })))
    const body = `BEGIN\n${"  PERFORM pg_sleep(0);\n".repeat(300)}END`
    const statements = [
      `INSERT INTO notes VALUES ('${prose}', '${json.replace(/'/g, "''")}')`,
      `CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$${body}$fn$`,
      `COMMENT ON TABLE t IS E'${"line\\n".repeat(50)}'`,
      `/* ${"x ".repeat(2000)} */ SELECT 1 -- ${"y ".repeat(2000)}`,
      `ALTER ROLE a PASSWORD '${"hunter2 ".repeat(500)}'`,
      `SELECT ${"a ".repeat(3000)} FROM t WHERE password = '${"hunter2,".repeat(400)}'`,
      `SELECT dblink('host=h ${"x=y ".repeat(500)} password=hunter2', 'select 1')`
    ]
    const sql = statements.join(";\n")
    const redacted = redactSql(sql)
    assert.notInclude(redacted, "hunter2")
    assert.include(redacted, prose)
    assert.include(redacted, json)
    assert.include(redacted, body)
    assert.include(redacted, "ALTER ROLE a PASSWORD '***'")
    assert.include(redacted, `WHERE password = '***'`)
    assert.include(redacted, "password=***'")
    const expected = [
      ...statements.slice(0, 4),
      "ALTER ROLE a PASSWORD '***'",
      `SELECT ${"a ".repeat(3000)} FROM t WHERE password = '***'`,
      `SELECT dblink('host=h ${"x=y ".repeat(500)} password=***', 'select 1')`
    ]
    assert.strictEqual(redacted, expected.join(";\n"))
  })

  it("crafted 330 kB statements (28 s for the former regular expressions) get their exact answer", () => {
    // Dollar quotes that never close, each with its own tag: the scanner refuses the text.
    let distinct = ""
    for (let i = 0; distinct.length < 330_000; i++) distinct += `password $t${i}$ `
    assert.strictEqual(redactSql(distinct), unreadable(distinct))

    // Dollar quotes that pair up.
    const unit = "password $x$ "
    const count = 2 * Math.ceil(330_000 / unit.length / 2)
    const crafted = unit.repeat(count)
    // Tokens: password, `$x$ password $x$` (a string), …
    const redacted = redactSql(crafted)
    assert.notInclude(redacted, "$x$")
    assert.strictEqual(redacted, "password '***' ".repeat(count / 2))

    // Backslash runs in an E string after a keyword: a token the scanner cannot report.
    const escapes = `ALTER ROLE a PASSWORD E'${"\\'".repeat(110_000)}'`
    assert.strictEqual(redactSql(escapes), unreadable(escapes))

    // Many connection URIs.
    const uris = `SELECT ${"dblink('postgresql://u:pw@h', 'x'), ".repeat(9_000)}1`
    assert.strictEqual(redactSql(uris), `SELECT ${"dblink('postgresql://u:***@h', 'x'), ".repeat(9_000)}1`)

    // Many passwords, each after its own keyword.
    const many = "ALTER ROLE a PASSWORD 'hunter2'; ".repeat(10_000)
    assert.strictEqual(redactSql(many), "ALTER ROLE a PASSWORD '***'; ".repeat(10_000))
  })

  it.effect("redact reads a long text in slices, giving the event loop turns, with the same answer", () =>
    Effect.gen(function* () {
      const long = "x ".repeat(20_000)
      const texts = [
        "ALTER ROLE a PASSWORD 'hunter2'; ".repeat(10_000),
        `SELECT '${long}'; ALTER ROLE a PASSWORD $$hunter2$$; `.repeat(8),
        `SELECT 1; /* ${"; ".repeat(30_000)} */ ALTER ROLE a PASSWORD 'hunter2'`,
        `SELECT 1; ${"SELECT ';'; ".repeat(5_000)} -- ${"; ".repeat(10_000)}\n ALTER ROLE a PASSWORD 'hunter2'`,
        `${"SELECT 1; ".repeat(5_000)} SELECT 'unterminated ${long}`
      ]
      for (const sql of texts) {
        // A chain of immediates counts the event loop's check phases: it advances only when the
        // redaction gives the loop a turn (a timer would also need a millisecond to pass).
        let turns = 0
        let handle = setImmediate(function tick() {
          turns++
          handle = setImmediate(tick)
        })
        const redacted = yield* redact(sql).pipe(Effect.ensuring(Effect.sync(() => clearImmediate(handle))))
        assert.strictEqual(redacted, redactSql(sql))
        assert.notInclude(redacted, "hunter2")
        assert.isAbove(turns, 0)
      }
    })
  )
})
