import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Chunk, Deferred, Effect, Either, Fiber, Schedule, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import { admin, contextFor, createFixture, type Fixture, makeDriver, missing } from "./helpers.js"

const { pools, driver } = makeDriver()
let db: Fixture

const request = (
  sql: string,
  options: {
    readonly params?: ReadonlyArray<unknown>
    readonly batchSize?: number
    readonly timeoutMillis?: number
  } = {}
) => Database.StreamQueryRequest.make({ sql, params: [], batchSize: 1_000, timeoutMillis: 30_000, ...options })

/** A bounded poll: every 50 ms, 600 times at most. */
const poll = Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(600))

/** Statements of the fixture's account running on the server now, seen from the superuser's connection. */
const running = () =>
  Effect.promise(() =>
    admin(["SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND = 'Query'"], [db.name])
  ).pipe(Effect.map((rows) => Number(rows[0]?.n)))

/** The number of running statements once it is `expected`; fails when it never is. */
const waitFor = (expected: number) =>
  running().pipe(
    Effect.filterOrFail(
      (n) => n === expected,
      (n) => new Error(`${n} statements running, expected ${expected}`)
    ),
    Effect.retry(poll)
  )

describe.skipIf(missing)("streaming queries on MariaDB", () => {
  beforeAll(async () => {
    db = await createFixture("pb_mystream")
    await admin([
      "CREATE TABLE pb_mystream.big (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL)",
      "INSERT INTO pb_mystream.big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_100000"
    ])
  })
  afterAll(async () => {
    await Effect.runPromise(pools.closeAll)
    await db.drop()
  })

  it.effect("streams 100k rows in batches of the requested size", () =>
    Effect.gen(function* () {
      const sizes: Array<number> = []
      let last = 0
      let ordered = true
      yield* driver.streamQuery(contextFor(db), request("SELECT id, label FROM big ORDER BY id")).pipe(
        Stream.runForEach((batch) =>
          Effect.sync(() => {
            sizes.push(batch.rows.length)
            for (const row of batch.rows) {
              if (row.id !== last + 1) ordered = false
              last = Number(row.id)
            }
            assert.deepStrictEqual(
              batch.columns.map((c) => [c.name, c.type]),
              [
                ["id", "int"],
                ["label", "varchar"]
              ]
            )
          })
        )
      )
      assert.strictEqual(last, 100_000)
      assert.isTrue(ordered)
      assert.strictEqual(sizes.length, 100)
      assert.isTrue(sizes.every((n) => n === 1_000))
      // The connection went back to the pool outside any transaction: nothing is left running.
      assert.strictEqual(yield* waitFor(0), 0)
    })
  )

  it.effect("binds parameters; the last batch holds the rest", () =>
    Effect.gen(function* () {
      const batches = yield* driver
        .streamQuery(
          contextFor(db),
          request("SELECT id FROM big WHERE id <= ? ORDER BY id", { params: [25], batchSize: 10 })
        )
        .pipe(Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(batches).map((b) => b.rows.length),
        [10, 10, 5]
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(batches)[2]?.rows.at(-1), { id: 25 })
    })
  )

  it.live("a consumer that stops between batches: the statement is killed on the server", () =>
    Effect.gen(function* () {
      const first = yield* Deferred.make<void>()
      const fiber = yield* driver
        .streamQuery(
          contextFor(db),
          request("SELECT a.id, b.id AS other FROM big a CROSS JOIN big b", { batchSize: 100 })
        )
        .pipe(
          // The consumer holds the first batch and pulls no more: the server waits on its socket.
          Stream.tap(() => Effect.zipRight(Deferred.succeed(first, undefined), Effect.never)),
          Stream.runDrain,
          Effect.fork
        )
      yield* Deferred.await(first)
      assert.strictEqual(yield* waitFor(1), 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* waitFor(0), 0)
    })
  )

  it.live("interrupting the consumer while the server computes stops the statement", () =>
    Effect.gen(function* () {
      const fiber = yield* driver
        .streamQuery(
          contextFor(db),
          request("SELECT COUNT(*) AS n FROM big a CROSS JOIN big b WHERE a.label <> b.label")
        )
        .pipe(Stream.runDrain, Effect.fork)
      assert.strictEqual(yield* waitFor(1), 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* waitFor(0), 0)
    })
  )

  it.live("a batch that does not come within timeoutMillis fails with TimedOut and the statement is killed", () =>
    Effect.gen(function* () {
      const result = yield* driver
        .streamQuery(
          contextFor(db),
          request("SELECT COUNT(*) AS n FROM big a CROSS JOIN big b WHERE a.label <> b.label", { timeoutMillis: 200 })
        )
        .pipe(Stream.runDrain, Effect.either)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left._tag, "TimedOut")
        if (result.left._tag === "TimedOut") assert.strictEqual(result.left.afterMillis, 200)
      }
      assert.strictEqual(yield* waitFor(0), 0)
    })
  )

  it.effect("writes are refused before reaching the server, read-only instance or not", () =>
    Effect.gen(function* () {
      for (const read_only of [true, false]) {
        const result = yield* driver
          .streamQuery(contextFor(db, { configuration: { read_only } }), request("DELETE FROM big WHERE id = 1"))
          .pipe(Stream.runDrain, Effect.either)
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) {
          assert.strictEqual(result.left._tag, "RequestRejected")
          if (result.left._tag === "RequestRejected") assert.strictEqual(result.left.status, "policy_statement")
        }
      }
      const still = yield* Effect.promise(() => admin(["SELECT COUNT(*) AS n FROM pb_mystream.big WHERE id = 1"]))
      assert.strictEqual(Number(still[0]?.n), 1)
    })
  )

  it.effect("a write hidden in a SELECT fails on the server: the stream runs in a READ ONLY transaction", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() =>
        admin([
          "CREATE OR REPLACE FUNCTION pb_mystream.sneaky() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM pb_mystream.big WHERE id = 2; RETURN 1; END"
        ])
      )
      const result = yield* driver
        .streamQuery(contextFor(db, { configuration: { read_only: true } }), request("SELECT sneaky() AS done"))
        .pipe(Stream.runDrain, Effect.either)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "RequestRejected")
      const still = yield* Effect.promise(() => admin(["SELECT COUNT(*) AS n FROM pb_mystream.big WHERE id = 2"]))
      assert.strictEqual(Number(still[0]?.n), 1)
    })
  )

  it.effect("a wrong password fails with AuthFailed", () =>
    Effect.gen(function* () {
      const result = yield* driver
        .streamQuery(contextFor(db, { password: "wrong-password" }), request("SELECT 1 AS one"))
        .pipe(Stream.runDrain, Effect.either)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "AuthFailed")
    })
  )
})
