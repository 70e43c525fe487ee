/**
 * Server messages that echo the instance's password reach errors scrubbed of it: the real server
 * quotes the value it could not parse or was asked to raise.
 */
import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { contextFor, createFixture, type Fixture, makeDriver } from "./helpers.js"

let db: Fixture
const { pools, driver } = makeDriver()

beforeAll(async () => {
  db = await createFixture("pb_scrub")
})
afterAll(async () => {
  await Effect.runPromise(pools.closeAll)
  await db.drop()
})

const request = (sql: string) => Database.QueryRequest.make({ sql, params: [], maxRows: 100, timeoutMillis: 30_000 })

describe("server messages", () => {
  it.effect("that echo the password (as written, URL-encoded, base64) name it nowhere in the error", () =>
    Effect.gen(function* () {
      const password = db.password
      const statements = [
        `SELECT '${password}'::int`,
        `SELECT 'user=${encodeURIComponent(password)}'::int`,
        `SELECT '${Buffer.from(password).toString("base64")}'::int`,
        `SELECT * FROM "${password}"`
      ]
      for (const sql of statements) {
        const error = yield* Effect.flip(driver.query!(contextFor(db), request(sql)))
        const shown = `${JSON.stringify(error)} ${error.message} ${String(error)}`
        assert.notInclude(shown, password, sql)
        assert.notInclude(shown, encodeURIComponent(password), sql)
        assert.notInclude(shown, Buffer.from(password).toString("base64"), sql)
        assert.include(shown, "[redacted]", sql)
      }
    })
  )
})
