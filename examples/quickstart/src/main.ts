/**
 * Patchbay quickstart — the main job, on embedded defaults: Patchbay's own store is PGlite in this
 * process, the database it connects to is PGlite served over the PostgreSQL wire protocol (or the
 * PostgreSQL named by PATCHBAY_QUICKSTART_DATABASE_URL), and the mail server is smtp-server on
 * 127.0.0.1. One line per step, with its timing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Activities } from "@patchbay/activities"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { SmtpConnector } from "@patchbay/connector-smtp"
import { Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Patchbay } from "@patchbay/preset"
import { PgliteStore } from "@patchbay/store-pglite"
import { ConnectionTester } from "@patchbay/testers"
import { MailServer } from "@patchbay/testing"
import { Console, Effect, Either } from "effect"
import { expectFailure, step } from "./step.js"
import * as Target from "./target.js"

const orgId = "0190a000-0000-7000-8000-00000000000a"
const userId = "0190a000-0000-7000-8000-0000000000b1"
const organization = { type: "organization" as const, id: orgId }

const program = (target: Target.TargetDatabase, mail: MailServer.MailServer) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const tester = yield* ConnectionTester.ConnectionTester
    const activities = yield* Activities.Activities
    yield* Console.log(
      `Patchbay quickstart — store: PGlite (embedded); database: ${target.kind} on ${target.host}:${target.port}; mail: smtp-server on 127.0.0.1:${mail.port}\n`
    )

    const pg = yield* step(
      "create Postgres instance",
      instances.create({
        connector: "postgres",
        instanceName: "pg-reporting-stage",
        description: "Reporting database (quickstart)",
        configuration: { host: target.host, port: target.port, database: target.database, ssl_mode: "disable" }
      }),
      (i) => `${i.instanceName}: ${i.configuration.host}:${i.configuration.port}/${i.configuration.database}`
    )
    yield* step(
      "store organization credential",
      vault.create({
        instanceId: pg.id,
        scope: organization,
        credentials: { username: target.username, password: target.password },
        labels: { label: "Reporting read-write user" }
      }),
      (c) => `version ${c.version}, scope ${c.scope.type}`
    )
    yield* step(
      "masked view",
      Effect.all([instances.get(pg.id), vault.list(pg.id)]),
      ([instance, [credential]]) =>
        `has_credentials=${instance.hasCredentials}, credential ${JSON.stringify(credential!.masked)}`
    )
    yield* step("test connection", tester.testConnection(pg.id), (r) => `${r.status}: ${r.message.split(" on ")[0]}`)
    yield* step(
      "health check",
      tester.healthCheck(pg.id),
      (h) => `${h.status}, ${h.latencyMs.toFixed(1)} ms round trip`
    )

    const ddl = "CREATE TABLE events (id serial PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now())"
    yield* step(
      "preview DDL (rolled back)",
      activities.executeDdl({ instanceId: pg.id, sql: ddl, confirm: false }),
      (r) => r.statements.map((s) => `${s.kind} ${s.tables.map((t) => t.name).join(",")}`).join("; ")
    )
    yield* step(
      "execute DDL",
      activities.executeDdl({ instanceId: pg.id, sql: ddl, confirm: true, reason: "events table for the quickstart" }),
      (r) => `executed=${r.executed}, ${r.statements.length} statement(s), audited`
    )
    yield* step("discover schema", activities.getSchema({ instanceId: pg.id, schemas: ["public"] }), (s) =>
      s.tables.map((t) => `${t.name}(${t.fields.map((f) => f.name + (f.primaryKey ? "*" : "")).join(", ")})`).join(" ")
    )
    yield* step(
      "run query (insert)",
      activities.runQuery({
        instanceId: pg.id,
        sql: "INSERT INTO events (name) SELECT 'event-' || g FROM generate_series(1, $1::int) g",
        params: [25]
      }),
      (r) => `${r.rowCount} rows inserted`
    )
    yield* step(
      "run query (select, capped)",
      activities.runQuery({ instanceId: pg.id, sql: "SELECT id, name FROM events ORDER BY id", maxRows: 10 }),
      (r) =>
        `${r.rows.length} rows (${r.columns.map((c) => `${c.name}:${c.type}`).join(", ")}), truncated=${r.truncated}`
    )
    yield* expectFailure(
      "refuse DROP without a reason",
      activities.executeDdl({ instanceId: pg.id, sql: "DROP TABLE events", confirm: true })
    )

    const smtp = yield* step(
      "create SMTP instance",
      instances.create({
        connector: "smtp",
        instanceName: "smtp-notifications",
        configuration: { host: "127.0.0.1", port: mail.port, security: "none", from: "patchbay@example.com" }
      }),
      (i) => `${i.instanceName}: ${i.configuration.host}:${i.configuration.port}`
    )
    const inTwoWeeks = new Date(Date.now() + 14 * 86_400_000)
    yield* step(
      "store SMTP credential (expires)",
      vault.create({
        instanceId: smtp.id,
        scope: organization,
        credentials: { username: "notifications", password: "mail-pass" },
        expiresAt: inTwoWeeks.toISOString()
      }),
      (c) => `version ${c.version}, expires ${c.expiresAt?.toISOString().slice(0, 10)}, ${JSON.stringify(c.masked)}`
    )
    yield* step(
      "send email",
      activities.sendEmail({
        instanceId: smtp.id,
        to: ["team@example.com"],
        subject: "Quickstart report",
        text: "25 events recorded."
      }),
      (r) => `accepted by ${r.accepted.join(", ")}; the server holds ${mail.received.length} message(s)`
    )

    const enforced = yield* Effect.promise(() => target.rotatePassword("rotated-outside"))
    if (enforced) {
      yield* Console.log("· the database password was changed outside Patchbay")
      yield* expectFailure("run query after rotation", activities.runQuery({ instanceId: pg.id, sql: "SELECT 1" }))
      yield* step("instance status", instances.get(pg.id), (i) => i.status)
      yield* step(
        "store new credential version",
        vault.create({
          instanceId: pg.id,
          scope: organization,
          credentials: { username: target.username, password: "rotated-outside" }
        }),
        (c) => `version ${c.version}`
      )
      yield* step(
        "run query again",
        activities.runQuery({ instanceId: pg.id, sql: "SELECT count(*)::int AS n FROM events" }),
        (r) => `${r.rows[0]!.n} events`
      )
      yield* step("instance status", instances.get(pg.id), (i) => i.status)
    } else {
      yield* Console.log(
        "· PGlite does not check passwords, so a database password rotation cannot fail here (set PATCHBAY_QUICKSTART_DATABASE_URL to a PostgreSQL superuser URL to see it); the mail server does:"
      )
      mail.users.set("notifications", "rotated-outside")
      yield* Console.log("· the mailbox password was changed outside Patchbay")
      yield* expectFailure(
        "send email after rotation",
        activities.sendEmail({ instanceId: smtp.id, to: ["team@example.com"], subject: "again", text: "again" })
      )
      yield* step("instance status", instances.get(smtp.id), (i) => i.status)
      yield* step(
        "store new credential version",
        vault.create({
          instanceId: smtp.id,
          scope: organization,
          credentials: { username: "notifications", password: "rotated-outside" },
          expiresAt: inTwoWeeks.toISOString()
        }),
        (c) => `version ${c.version}`
      )
      yield* step(
        "send email again",
        activities.sendEmail({ instanceId: smtp.id, to: ["team@example.com"], subject: "again", text: "again" }),
        (r) => `accepted by ${r.accepted.join(", ")}`
      )
      yield* step("instance status", instances.get(smtp.id), (i) => i.status)
    }

    yield* step("list expiring credentials (30 days)", vault.listExpiring({ daysAhead: 30 }), (list) =>
      list.map((c) => `${c.connectorName} "${c.instanceName}" in ${c.daysRemaining.toFixed(1)} days`).join("; ")
    )
    yield* step(
      "bulk health check",
      tester.bulkOperation({ instanceIds: [pg.id, smtp.id], action: "health_check" }),
      (results) =>
        results
          .map((r) =>
            Either.match(r.result, {
              onLeft: (e) => `${r.instanceId.slice(-4)} ${e._tag}`,
              onRight: (v) => ("latencyMs" in v ? `${v.status} ${v.latencyMs.toFixed(1)} ms` : "ok")
            })
          )
          .join(", ")
    )
    yield* Console.log("\nDone.")
  })

// Keys from PATCHBAY_KEYRING & co. when set, else ephemeral keys for this run. Everything in the
// quickstart runs on 127.0.0.1; a deployment leaves loopback denied.
const PatchbayLive = Patchbay.layer({
  store: PgliteStore.layer(),
  connectors: [PostgresConnector.connector, SmtpConnector.connector],
  keys: process.env.PATCHBAY_KEYRING ? "config" : "ephemeral",
  egress: { allowLoopback: true }
})

const main = Effect.acquireUseRelease(
  Effect.promise(() => Promise.all([Target.start(), MailServer.start({ notifications: "mail-pass" })])),
  ([target, mail]) =>
    program(target, mail).pipe(Effect.provide(PatchbayLive), Effect.provide(Actor.layer({ orgId, userId }))),
  ([target, mail]) => Effect.promise(() => Promise.all([target.close(), mail.close()]))
)

NodeRuntime.runMain(main)
