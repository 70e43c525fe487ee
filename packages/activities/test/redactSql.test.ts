import { assert, describe, it } from "@effect/vitest"
import { redactSql } from "../src/internal/redactSql.js"

describe("redactSql", () => {
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
    const sql = "CREATE TABLE accounts (id int, password_hash text NOT NULL)"
    assert.strictEqual(redactSql(sql), sql)
  })
})
