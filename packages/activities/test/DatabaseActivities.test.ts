import { assert, describe, layer } from "@effect/vitest"
import { AuditLog, ConnectorInstances, Ids } from "@patchbay/core"
import { Effect } from "effect"
import * as Activities from "../src/Activities.js"
import { activitiesLayer, connect, orgId, rotate } from "./fixtures.js"
import { admin, ownedDatabases, port, postgres } from "./postgresFixtures.js"

/** Two roles, each owning a database of its name: one account per instance (accounts are unique). */
const roles = [`act_a_${process.pid}`, `act_b_${process.pid}`] as const
ownedDatabases(roles, "first-password")
const passwords = new Map<string, string>(roles.map((role) => [role, "first-password"]))

const database = (name: string, role: string) =>
  connect(
    "postgres",
    name,
    { host: "127.0.0.1", port, database: role, ssl_mode: "disable" },
    { username: role, password: passwords.get(role) }
  )

const auditActions = (instanceId: string) =>
  Effect.flatMap(AuditLog.AuditLog, (audit) =>
    audit.list(Ids.OrgId.make(orgId), { instanceId: Ids.InstanceId.make(instanceId), limit: 50 })
  ).pipe(Effect.map((events) => events.map((e) => `${e.action}:${e.outcome}`)))

describe("database activities on a real PostgreSQL", () => {
  layer(activitiesLayer([postgres]), { excludeTestServices: true })((it) => {
    it.effect("DDL preview leaves no trace, execution is audited, Run Query and Get Schema see the table", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* database("warehouse", roles[0])
        const create = "CREATE TABLE events (id serial PRIMARY KEY, name text NOT NULL, created_at timestamptz)"

        const preview = yield* activities.executeDdl({ instanceId, sql: create, confirm: false })
        assert.isFalse(preview.executed)
        assert.strictEqual(preview.statements[0]!.kind, "create")
        const absent = yield* activities.runQuery({ instanceId, sql: "SELECT to_regclass('public.events') AS t" })
        assert.isNull(absent.rows[0]!.t)

        const executed = yield* activities.executeDdl({ instanceId, sql: create, confirm: true })
        assert.isTrue(executed.executed)
        yield* activities.runQuery({
          instanceId,
          sql: "INSERT INTO events (name) SELECT 'e' || g FROM generate_series(1, 5) g"
        })
        const rows = yield* activities.runQuery({
          instanceId,
          sql: "SELECT id, name FROM events WHERE id > $1 ORDER BY id",
          params: [2],
          maxRows: 2
        })
        assert.deepStrictEqual(
          rows.rows.map((r) => r.name),
          ["e3", "e4"]
        )
        assert.isTrue(rows.truncated)
        assert.deepStrictEqual(
          rows.columns.map((c) => c.name),
          ["id", "name"]
        )

        const schema = yield* activities.getSchema({ instanceId, schemas: ["public"] })
        const events = schema.tables.find((t) => t.name === "events")!
        assert.deepStrictEqual(
          events.fields.map((f) => [f.name, f.primaryKey]),
          [
            ["id", true],
            ["name", false],
            ["created_at", false]
          ]
        )

        const refused = yield* Effect.flip(
          activities.executeDdl({ instanceId, sql: "DROP TABLE events", confirm: true })
        )
        assert.strictEqual(refused._tag, "ActivityRejected")
        assert.include(refused.message, "reason")
        const stillThere = yield* activities.runQuery({ instanceId, sql: "SELECT count(*)::int AS n FROM events" })
        assert.strictEqual(stillThere.rows[0]!.n, 5)

        yield* activities.executeDdl({
          instanceId,
          sql: "DROP TABLE events",
          confirm: true,
          reason: "retired pipeline"
        })
        const gone = yield* activities.runQuery({ instanceId, sql: "SELECT to_regclass('public.events') AS t" })
        assert.isNull(gone.rows[0]!.t)

        const syntax = yield* Effect.flip(activities.executeDdl({ instanceId, sql: "CREATE TABLE (", confirm: false }))
        assert.strictEqual(syntax._tag, "ActivityRejected")

        const actions = yield* auditActions(instanceId)
        assert.deepStrictEqual(actions.filter((a) => a.startsWith("ddl.")).reverse(), [
          "ddl.previewed:success",
          "ddl.attempted:success",
          "ddl.executed:success",
          "ddl.attempted:success",
          "ddl.executed:refused",
          "ddl.attempted:success",
          "ddl.executed:success",
          "ddl.previewed:refused"
        ])
        const audit = yield* AuditLog.AuditLog
        const [dropped] = yield* audit.list(Ids.OrgId.make(orgId), { action: "ddl.executed", limit: 1 })
        assert.strictEqual(dropped!.details.reason, "retired pipeline")

        // A refused statement is audited as written, except for the password it carries.
        const role = yield* Effect.flip(
          activities.executeDdl({ instanceId, sql: "CREATE ROLE intruder PASSWORD 'hunter2-secret'", confirm: false })
        )
        assert.strictEqual(role._tag, "ActivityRejected")
        const [refusedRole] = yield* audit.list(Ids.OrgId.make(orgId), { action: "ddl.previewed", limit: 1 })
        assert.strictEqual(refusedRole!.outcome, "refused")
        assert.include(String(refusedRole!.details.sql), "CREATE ROLE intruder PASSWORD '***'")
        assert.notInclude(JSON.stringify(refusedRole!.details), "hunter2-secret")
      })
    )

    it.effect("a password changed outside Patchbay is ReconnectRequired until a new version is stored", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instances = yield* ConnectorInstances.ConnectorInstances
        const role = roles[1]
        const instanceId = yield* database("reporting", role)
        assert.strictEqual((yield* activities.runQuery({ instanceId, sql: "SELECT 1 AS one" })).rows[0]!.one, 1)

        // Rotated as a DBA would: new password, and the role's open sessions ended.
        yield* Effect.promise(async () => {
          await admin(`ALTER ROLE ${role} PASSWORD 'rotated-outside'`)
          await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`)
        })
        // A latch on the server's word, not a sleep: every session of the role has ended.
        yield* Effect.promise(() =>
          admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = '${role}'`)
        ).pipe(Effect.repeat({ until: (rows) => rows[0]?.n === 0 }))
        const error = yield* Effect.flip(activities.runQuery({ instanceId, sql: "SELECT 1 AS one" }))
        assert.strictEqual(error._tag, "ReconnectRequired")
        if (error._tag === "ReconnectRequired") {
          assert.strictEqual(error.action, "replace_credentials")
          assert.strictEqual(error.connector, "postgres")
        }
        assert.notInclude(error.message, "first-password")
        assert.strictEqual((yield* instances.get(instanceId)).status, "reconnect_required")

        yield* rotate(instanceId, { username: role, password: "rotated-outside" })
        assert.strictEqual((yield* activities.runQuery({ instanceId, sql: "SELECT 1 AS one" })).rows[0]!.one, 1)
        assert.strictEqual((yield* instances.get(instanceId)).status, "active")
      })
    )
  })
})
