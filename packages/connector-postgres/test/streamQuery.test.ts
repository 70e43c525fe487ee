import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Chunk, Deferred, Effect, Either, Fiber, Schedule, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import { adminQuery, contextFor, createFixture, type Fixture, makeDriver } from "./helpers.js"

let db: Fixture
const { pools, driver } = makeDriver()

beforeAll(async () => {
  db = await createFixture("pb_stream")
  await db.sql(`
    CREATE TABLE big (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO big SELECT i, 'row ' || i FROM generate_series(1, 200000) i;
    CREATE TYPE mood AS ENUM ('calm', 'busy');
  `)
})
afterAll(async () => {
  await Effect.runPromise(pools.closeAll)
  await db.drop()
})

const request = (sql: string, options: Partial<Database.StreamQueryRequest> = {}) =>
  Database.StreamQueryRequest.make({ sql, params: [], batchSize: 1_000, timeoutMillis: 30_000, ...options })

describe("streaming queries", () => {
  it.effect("streams 200k rows in batches, one batch in flight at most", () =>
    Effect.gen(function* () {
      let inFlight = 0
      let peak = 0
      const total = yield* driver.streamQuery(contextFor(db), request("SELECT id, label FROM big ORDER BY id")).pipe(
        Stream.tap((batch) =>
          Effect.sync(() => {
            inFlight += batch.rows.length
            peak = Math.max(peak, inFlight)
          })
        ),
        Stream.runFold(0, (n, batch) => {
          inFlight -= batch.rows.length
          assert.deepStrictEqual(
            batch.columns.map((c) => [c.name, c.type]),
            [
              ["id", "integer"],
              ["label", "text"]
            ]
          )
          return n + batch.rows.length
        })
      )
      assert.strictEqual(total, 200_000)
      assert.isAtMost(peak, 1_000)
    })
  )

  it.effect("binds parameters", () =>
    Effect.gen(function* () {
      const batches = yield* driver
        .streamQuery(
          contextFor(db),
          request("SELECT id FROM big WHERE id <= $1 ORDER BY id", { params: [25], batchSize: 10 })
        )
        .pipe(Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(batches).map((b) => b.rows.length),
        [10, 10, 5]
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(batches)[2]!.rows.at(-1), { id: 25 })
    })
  )

  it.effect("rows that fill the last batch exactly end with an empty fetch, not an empty batch", () =>
    Effect.gen(function* () {
      const batches = yield* driver
        .streamQuery(
          contextFor(db),
          request("SELECT id FROM big WHERE id <= $1 ORDER BY id", { params: [20], batchSize: 10 })
        )
        .pipe(Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(batches).map((b) => b.rows.length),
        [10, 10]
      )
    })
  )

  it.effect("a column of a type the pool has not seen is named by the server", () =>
    Effect.gen(function* () {
      const batches = yield* driver
        .streamQuery(contextFor(db), request("SELECT 'busy'::mood AS m FROM big LIMIT 3"))
        .pipe(Stream.runCollect)
      const [batch] = Chunk.toReadonlyArray(batches)
      assert.deepStrictEqual(
        batch!.columns.map((c) => [c.name, c.type]),
        [["m", "mood"]]
      )
      assert.deepStrictEqual(batch!.rows, [{ m: "busy" }, { m: "busy" }, { m: "busy" }])
    })
  )

  const activeIn = (database: string, state: string) =>
    Effect.promise(() =>
      adminQuery(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = $2 AND pid <> pg_backend_pid()",
        [database, state]
      )
    ).pipe(Effect.map((rows) => Number(rows[0]!.n)))
  /** A bounded poll: every 50 ms, 600 times at most. */
  const poll = Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(600))
  /** The count of the database's backends in `state` once it is `expected`; fails when it never is. */
  const waitFor = (state: string, expected: number) =>
    activeIn(db.name, state).pipe(
      Effect.filterOrFail(
        (n) => n === expected,
        (n) => new Error(`${n} backends ${state}, expected ${expected}`)
      ),
      Effect.retry(poll)
    )

  it.live("interrupting the consumer between batches closes the cursor's transaction", () =>
    Effect.gen(function* () {
      const first = yield* Deferred.make<void>()
      const fiber = yield* driver
        .streamQuery(
          contextFor(db),
          request("SELECT a.id, b.id AS other FROM big a CROSS JOIN big b", { batchSize: 100 })
        )
        .pipe(
          // The consumer holds the first batch and pulls no more: the cursor rests between batches.
          Stream.tap(() => Effect.zipRight(Deferred.succeed(first, undefined), Effect.never)),
          Stream.runDrain,
          Effect.fork
        )
      yield* Deferred.await(first)
      assert.strictEqual(yield* waitFor("idle in transaction", 1), 1)
      yield* Fiber.interrupt(fiber)
      const left = yield* waitFor("idle in transaction", 0)
      assert.strictEqual(left, 0)
    })
  )

  it.live("a consumer that stops early ends the cursor's transaction", () =>
    Effect.gen(function* () {
      const taken = yield* driver
        .streamQuery(contextFor(db), request("SELECT id FROM big ORDER BY id", { batchSize: 100 }))
        .pipe(Stream.take(2), Stream.runCollect)
      assert.strictEqual(taken.length, 2)
      const left = yield* waitFor("idle in transaction", 0)
      assert.strictEqual(left, 0)
    })
  )

  it.live("interrupting the consumer during a fetch cancels the query on the server", () =>
    Effect.gen(function* () {
      const fiber = yield* driver
        .streamQuery(contextFor(db), request("SELECT count(*) AS n FROM big a CROSS JOIN big b"))
        .pipe(Stream.runDrain, Effect.fork)
      const running = yield* waitFor("active", 1)
      assert.strictEqual(running, 1)
      yield* Fiber.interrupt(fiber)
      const left = yield* waitFor("active", 0)
      assert.strictEqual(left, 0)
    })
  )

  it.effect("a write statement is refused by the policy before reaching the server", () =>
    Effect.gen(function* () {
      const result = yield* driver
        .streamQuery(contextFor(db), request("DELETE FROM big WHERE id = 1 RETURNING id"))
        .pipe(Stream.runDrain, Effect.either)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "RequestRejected")
      const still = yield* Effect.promise(() => db.sql("SELECT count(*)::int AS n FROM big WHERE id = 1"))
      assert.strictEqual(still.rows[0]!.n, 1)
    })
  )

  it.effect("a wrong password fails with AuthFailed", () =>
    Effect.gen(function* () {
      const result = yield* driver
        .streamQuery(contextFor(db, { password: "wrong" }), request("SELECT 1 AS one"))
        .pipe(Stream.runDrain, Effect.either)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "AuthFailed")
    })
  )
})
