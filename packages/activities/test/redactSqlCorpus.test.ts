import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { redactSql } from "../src/internal/redactSql.js"
import { load } from "../src/internal/sqlTokens.js"

/**
 * A generated corpus: every spelling of a password-bearing statement × every literal spelling ×
 * every position in a batch. The password never appears in the redacted text, in any encoding.
 */
describe("redactSql corpus", () => {
  beforeAll(() => Effect.runPromise(load))

  const secret = "Hunt3r-Zq9x"
  const hex = (s: string) => [...s].map((c) => c.codePointAt(0)!.toString(16).padStart(4, "0"))
  const literals: ReadonlyArray<(v: string) => string> = [
    (v) => `'${v.replace(/'/g, "''")}'`,
    (v) => `E'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`,
    (v) => `e'${[...v].map((c) => `\\x${c.charCodeAt(0).toString(16)}`).join("")}'`,
    (v) => `E'${[...v].map((c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`).join("")}'`,
    (v) =>
      `E'${hex(v)
        .map((h) => `\\u${h}`)
        .join("")}'`,
    (v) =>
      `U&'${hex(v)
        .map((h) => `\\${h}`)
        .join("")}'`,
    (v) =>
      `U&'${hex(v)
        .map((h) => `!${h}`)
        .join("")}' UESCAPE '!'`,
    (v) =>
      `u&'${hex(v)
        .map((h) => `\\+00${h}`)
        .join("")}'`,
    (v) => `$$${v}$$`,
    (v) => `$pw$${v}$pw$`,
    (v) => `'${v.slice(0, 4).replace(/'/g, "''")}'\n'${v.slice(4).replace(/'/g, "''")}'`,
    (v) => `N'${v.replace(/'/g, "''")}'`
  ]
  const keywords = [
    "PASSWORD",
    "password",
    "Password",
    '"password"',
    '"PASSWORD"',
    'U&"\\0070assword"',
    "U&\"!0070assword\" UESCAPE '!'"
  ]
  const gaps = [" ", "\n", "\t", " /* c */ ", "/**/", " -- c\n", " /* a /* b */ c */ "]
  const statements: ReadonlyArray<(kw: string, gap: string, lit: string) => string> = [
    (kw, gap, lit) => `ALTER ROLE app WITH LOGIN ${kw}${gap}${lit}`,
    (kw, gap, lit) => `CREATE ROLE app ENCRYPTED ${kw}${gap}${lit} VALID UNTIL 'infinity'`,
    (kw, gap, lit) => `CREATE USER app ${kw}${gap}${lit}`,
    (kw, gap, lit) => `ALTER USER app ${kw}${gap}${lit}`,
    (kw, gap, lit) => `CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', ${kw}${gap}${lit})`,
    (kw, gap, lit) => `ALTER USER MAPPING FOR app SERVER s OPTIONS (SET ${kw}${gap}${lit})`,
    (_, gap, lit) => `SET app.password${gap}=${gap}${lit}`,
    (_, gap, lit) => `SELECT set_config('app.password',${gap}${lit}, false)`
  ]
  const connections: ReadonlyArray<(v: string) => string> = [
    (v) => `host=db port=5432 user=u password=${v} dbname=d`,
    (v) => `host=db password = '${v}'`,
    (v) => `postgresql://u:${encodeURIComponent(v)}@db:5432/d`,
    (v) => `postgres://db/d?sslmode=require&password=${encodeURIComponent(v)}`
  ]
  const carriers: ReadonlyArray<(lit: string) => string> = [
    (lit) => `SELECT * FROM dblink(${lit}, 'select 1') AS t(x int)`,
    (lit) => `SELECT dblink_connect('c', ${lit})`,
    (lit) => `CREATE SUBSCRIPTION s CONNECTION ${lit} PUBLICATION p`,
    (lit) => `CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dsn ${lit})`
  ]
  const positions: ReadonlyArray<(statement: string) => string> = [
    (s) => s,
    (s) => `SELECT 1; ${s}; SELECT 2`,
    (s) => `${s};\nSELECT 'a ${"long text ".repeat(300)}'`,
    (s) => `/* ${"x".repeat(2000)} */ ${s}`
  ]
  const leaks = (redacted: string) =>
    [secret, encodeURIComponent(secret), secret.slice(4)].some((form) => redacted.includes(form))

  it("no password survives: role passwords, user mappings, settings, connection strings", () => {
    let tries = 0
    let failures = 0
    const failed: Array<string> = []
    for (const position of positions) {
      for (const lit of literals) {
        for (const statement of statements) {
          for (const kw of keywords) {
            for (const gap of gaps) {
              const sql = position(statement(kw, gap, lit(secret)))
              tries++
              if (leaks(redactSql(sql))) {
                failures++
                failed.push(sql)
              }
            }
          }
        }
        for (const carrier of carriers) {
          for (const connection of connections) {
            const sql = position(carrier(lit(connection(secret))))
            tries++
            if (leaks(redactSql(sql))) {
              failures++
              failed.push(sql)
            }
          }
        }
      }
    }
    console.log(`SQL redaction corpus: ${tries} tries, ${failures} failures`)
    assert.deepStrictEqual(failed.slice(0, 5), [])
    assert.isAbove(tries, 10_000)
  })
})
