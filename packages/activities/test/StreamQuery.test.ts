import { assert, describe, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as Activities from "../src/Activities.js"
import { activitiesLayer, connect } from "./fixtures.js"
import { admin, ownedDatabases, port, postgres } from "./postgresFixtures.js"

const role = `act_stream_${process.pid}`
ownedDatabases([role], "stream-password")

const database = (name: string) =>
  connect(
    "postgres",
    name,
    { host: "127.0.0.1", port, database: role, ssl_mode: "disable" },
    { username: role, password: "stream-password" }
  )

describe("Activities.streamQuery on a real PostgreSQL", () => {
  layer(activitiesLayer([postgres]), { excludeTestServices: true })((it) => {
    it.effect("streams rows in batches; a write is refused; a changed password is ReconnectRequired", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* database("stream source")
        const sizes = yield* activities
          .streamQuery({
            instanceId,
            sql: "SELECT i FROM generate_series(1, $1::int) i",
            params: [20_500],
            batchSize: 5_000
          })
          .pipe(Stream.runFold([] as Array<number>, (all, batch) => [...all, batch.rows.length]))
        assert.deepStrictEqual(sizes, [5_000, 5_000, 5_000, 5_000, 500])

        const refused = yield* Effect.flip(
          Stream.runDrain(activities.streamQuery({ instanceId, sql: "CREATE TABLE t AS SELECT 1 AS x" }))
        )
        assert.strictEqual(refused._tag, "ActivityRejected")

        yield* Effect.promise(async () => {
          await admin(`ALTER ROLE ${role} PASSWORD 'rotated-outside'`)
          await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`)
        })
        // A latch on the server's word, not a sleep: every session of the role has ended.
        yield* Effect.promise(() =>
          admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = '${role}'`)
        ).pipe(Effect.repeat({ until: (rows) => rows[0]?.n === 0 }))
        const error = yield* Effect.flip(
          Stream.runDrain(activities.streamQuery({ instanceId, sql: "SELECT 1 AS one" }))
        )
        assert.strictEqual(error._tag, "ReconnectRequired")
      })
    )
  })
})
