import { assert, describe, layer } from "@effect/vitest"
import { AuditLog, Ids } from "@patchbay/core"
import { Effect } from "effect"
import * as Activities from "../src/Activities.js"
import { activitiesLayer, connect, orgId } from "./fixtures.js"
import { ownedDatabases, port, postgres } from "./postgresFixtures.js"

const role = `act_policy_${process.pid}`
ownedDatabases([role], "policy-password")

describe("SQL policy through the activities", () => {
  layer(activitiesLayer([postgres]), { excludeTestServices: true })((it) => {
    it.effect("a table-wide DELETE is ActivityRejected without a reason, runs with one, and both are audited", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* connect(
          "postgres",
          "policy",
          { host: "127.0.0.1", port, database: role, ssl_mode: "disable" },
          { username: role, password: "policy-password" }
        )
        yield* activities.executeDdl({ instanceId, sql: "CREATE TABLE jobs (id int PRIMARY KEY)", confirm: true })
        yield* activities.runQuery({ instanceId, sql: "INSERT INTO jobs SELECT generate_series(1, 12)" })

        const refused = yield* Effect.flip(activities.runQuery({ instanceId, sql: "DELETE FROM jobs WHERE id > 0" }))
        assert.strictEqual(refused._tag, "ActivityRejected")
        assert.include(refused.message, "needs a reason")
        const ddl = yield* Effect.flip(activities.runQuery({ instanceId, sql: "TRUNCATE jobs" }))
        assert.strictEqual(ddl._tag, "ActivityRejected")
        assert.include(ddl.message, "Execute DDL")
        const kept = yield* activities.runQuery({ instanceId, sql: "SELECT count(*)::int AS n FROM jobs" })
        assert.strictEqual(kept.rows[0]!.n, 12)

        const done = yield* activities.runQuery({ instanceId, sql: "DELETE FROM jobs WHERE id > 0", reason: "drained" })
        assert.strictEqual(done.rowCount, 12)

        const audit = yield* AuditLog.AuditLog
        const events = yield* audit.list(Ids.OrgId.make(orgId), {
          instanceId: Ids.InstanceId.make(instanceId),
          action: "query.table_wide",
          limit: 10
        })
        assert.deepStrictEqual(events.map((e) => [e.outcome, e.details.reason]).reverse(), [
          ["refused", null],
          ["success", "drained"]
        ])
        assert.deepStrictEqual(events[0]!.details.tables, [
          { table: "public.jobs", rows: 12, why: "every_row_touched" }
        ])
      })
    )
  })
})
