import { assert, describe, layer } from "@effect/vitest"
import { AuditLog, ConnectorInstances, Ids } from "@patchbay/core"
import { MailServer } from "@patchbay/testing"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Activities from "../src/Activities.js"
import { activitiesLayer, connect, orgId, rotate } from "./fixtures.js"

let mail: MailServer.MailServer
beforeAll(async () => {
  mail = await MailServer.start({ mailer: "s3cret" })
})
afterAll(() => mail.close())

/** An SMTP instance whose account (one per instance: accounts are unique per connector) is `name`. */
const smtp = (name: string, password: string | undefined) =>
  Effect.suspend(() => {
    mail.users.set(name, "s3cret")
    return connect(
      "smtp",
      name,
      { host: "127.0.0.1", port: mail.port, security: "none", from: "patchbay@example.com", timeout_ms: 5000 },
      password === undefined ? undefined : { username: name, password }
    )
  })

describe("SendEmail", () => {
  layer(activitiesLayer(), { excludeTestServices: true })((it) => {
    it.effect("delivers through a real SMTP server", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* smtp("mail-ok", "s3cret")
        const receipt = yield* activities.sendEmail({
          instanceId,
          to: ["ops@example.com"],
          cc: ["cc@example.com"],
          subject: "Nightly report",
          text: "All green.",
          attachments: [{ filename: "report.csv", contentType: "text/csv", content: btoa("a,b\n1,2\n") }]
        })
        assert.deepStrictEqual([...receipt.accepted].sort(), ["cc@example.com", "ops@example.com"])
        const last = mail.received.at(-1)!
        assert.strictEqual(last.user, "mail-ok")
        assert.include(last.raw, "Subject: Nightly report")
        assert.include(last.raw, "report.csv")
      })
    )

    it.effect("a rejected password is ReconnectRequired, flags the instance, and a new version recovers it", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instances = yield* ConnectorInstances.ConnectorInstances
        const instanceId = yield* smtp("mail-rotated", "s3cret")
        const send = activities.sendEmail({ instanceId, to: ["ops@example.com"], subject: "hi", text: "hi" })
        yield* send
        mail.users.set("mail-rotated", "rotated-outside")
        const error = yield* Effect.flip(send)
        assert.strictEqual(error._tag, "ReconnectRequired")
        assert.isFalse(error.retryable)
        if (error._tag === "ReconnectRequired") {
          assert.strictEqual(error.action, "replace_credentials")
          assert.strictEqual(error.instanceName, "mail-rotated")
          assert.notInclude(error.message, "s3cret")
        }
        assert.strictEqual((yield* instances.get(instanceId)).status, "reconnect_required")

        yield* rotate(instanceId, { username: "mail-rotated", password: "rotated-outside" })
        yield* send
        assert.strictEqual((yield* instances.get(instanceId)).status, "active")
        const audit = yield* AuditLog.AuditLog
        const actions = (yield* audit.list(Ids.OrgId.make(orgId), {
          instanceId: Ids.InstanceId.make(instanceId),
          limit: 10
        })).map((e) => e.action)
        assert.includeMembers(actions, ["instance.reconnect_required", "instance.active"])
      })
    )

    it.effect("no credential is ReconnectRequired", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* smtp("mail-empty", undefined)
        const error = yield* Effect.flip(
          activities.sendEmail({ instanceId, to: ["a@example.com"], subject: "s", text: "t" })
        )
        assert.strictEqual(error._tag, "ReconnectRequired")
      })
    )

    it.effect("bad input and a disabled instance are ActivityRejected", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instances = yield* ConnectorInstances.ConnectorInstances
        const instanceId = yield* smtp("mail-rejects", "s3cret")
        const noRecipient = yield* Effect.flip(activities.sendEmail({ instanceId, to: [], subject: "s", text: "t" }))
        assert.strictEqual(noRecipient._tag, "ActivityRejected")
        assert.include(noRecipient.message, "at least one recipient")
        const badAddress = yield* Effect.flip(
          activities.sendEmail({ instanceId, to: ["nobody"], subject: "s", text: "t" })
        )
        assert.include(badAddress.message, "to.0: must be an email address")
        yield* instances.update(instanceId, { isEnabled: false })
        const disabled = yield* Effect.flip(
          activities.sendEmail({ instanceId, to: ["a@example.com"], subject: "s", text: "t" })
        )
        assert.strictEqual(disabled._tag, "ActivityRejected")
        assert.include(disabled.message, "disabled")
        const unknown = yield* Effect.flip(
          activities.sendEmail({
            instanceId: "0190a000-0000-7000-8000-00000000dead",
            to: ["a@example.com"],
            subject: "s",
            text: "t"
          })
        )
        assert.strictEqual(unknown._tag, "ActivityRejected")
        const wrongKind = yield* Effect.flip(
          activities.runQuery({ instanceId: yield* smtp("mail-noquery", "s3cret"), sql: "select 1" })
        )
        assert.strictEqual(wrongKind._tag, "ActivityRejected")
        assert.include(wrongKind.message, "does not support run_query")
      })
    )

    it.effect("an unreachable server is a TransientFailure", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* connect(
          "smtp",
          "mail-down",
          { host: "127.0.0.1", port: 1, security: "none", from: "patchbay@example.com", timeout_ms: 2000 },
          { username: "mailer", password: "s3cret" }
        )
        const error = yield* Effect.flip(
          activities.sendEmail({ instanceId, to: ["a@example.com"], subject: "s", text: "t" })
        )
        assert.strictEqual(error._tag, "TransientFailure")
        assert.isTrue(error.retryable)
      })
    )
  })
})
