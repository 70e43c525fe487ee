import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { admin, contextFor, createFixture, type Fixture, makeDriver, missing } from "./helpers.js"

const tableCount = 1_000
// One connection: every statement below runs in the same server session.
const { pools, driver } = makeDriver({ maxConnections: 1 })
let db: Fixture

/** SELECT statements this session has run so far (the reading counts itself, the same each time). */
const selects = (context: ReturnType<typeof contextFor>) =>
  driver
    .query(
      context,
      new Database.QueryRequest({
        sql: "SELECT VARIABLE_VALUE AS n FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'COM_SELECT'",
        params: [],
        maxRows: 1,
        timeoutMillis: 10_000
      })
    )
    .pipe(Effect.map((result) => Number(result.rows[0]?.n)))

/** How many SELECTs discovering `schemas` took. */
const queriesFor = (context: ReturnType<typeof contextFor>, schemas: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const before = yield* selects(context)
    const schema = yield* driver.discoverSchema(context, new Database.SchemaRequest({ schemas }))
    const after = yield* selects(context)
    return { schema, queries: after - before }
  })

describe.skipIf(missing)("schema discovery at 1k tables", () => {
  beforeAll(async () => {
    db = await createFixture("pb_many")
    const statements = Array.from(
      { length: tableCount },
      (_, i) => `CREATE TABLE pb_many.t${i} (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL, note TEXT)`
    )
    await admin(statements)
  }, 600_000)
  afterAll(async () => {
    await Effect.runPromise(pools.closeAll)
    await db.drop()
  })

  it.effect("lists every table with its fields in as many queries as an empty schema", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      const many = yield* queriesFor(context, [db.name])
      const none = yield* queriesFor(context, ["pb_no_such_schema"])
      assert.strictEqual(many.schema.tables.length, tableCount)
      assert.isTrue(many.schema.tables.every((t) => t.fields.length === 3 && t.fields[0]?.primaryKey === true))
      assert.strictEqual(none.schema.tables.length, 0)
      assert.isAbove(many.queries, 0)
      assert.strictEqual(many.queries, none.queries)
    })
  )
})
