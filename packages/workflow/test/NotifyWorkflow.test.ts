import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, layer } from "@effect/vitest"
import * as Workflow from "@effect/workflow/Workflow"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Activities } from "@patchbay/activities"
import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import { SmtpConnector } from "@patchbay/connector-smtp"
import { ActivityError, Actor, ConnectorInstances, EgressPolicy } from "@patchbay/core"
import { Credentials, CredentialVault } from "@patchbay/credentials"
import { MailServer } from "@patchbay/testing"
import { Effect, Layer, Schema } from "effect"
import { afterAll, beforeAll } from "vitest"
import { PatchbayActivity } from "../src/index.js"

const orgId = "0190a000-0000-7000-8000-00000000000a"

/** The example workflow: text the on-call phone (retrying transient failures), then email the team. */
const Notify = Workflow.make({
  name: "Notify",
  payload: {
    smsInstanceId: Schema.String,
    emailInstanceId: Schema.String,
    phone: Schema.String,
    message: Schema.String
  },
  success: Schema.Struct({ smsId: Schema.String, messageId: Schema.String }),
  error: ActivityError.ActivityError,
  idempotencyKey: (payload) => `${payload.phone}:${payload.message}`
})

const NotifyLive = Notify.toLayer(
  Effect.fn(function* (payload) {
    const sms = yield* PatchbayActivity.retryTransient(
      PatchbayActivity.sendSms("text on-call", {
        instanceId: payload.smsInstanceId,
        to: payload.phone,
        body: payload.message
      }),
      { base: "20 millis", times: 3 }
    )
    const mail = yield* PatchbayActivity.sendEmail("email team", {
      instanceId: payload.emailInstanceId,
      to: ["team@example.com"],
      subject: "On-call notified",
      text: payload.message
    })
    return { smsId: sms.id, messageId: mail.messageId }
  })
)

let mail: MailServer.MailServer
let http: Server
let port = 0
const smsRequests = new Map<string, number>()
beforeAll(async () => {
  mail = await MailServer.start({ notifier: "mail-pass" })
  http = createServer((request, response) => {
    const account = /Accounts\/([^/]+)\/Messages/.exec(request.url ?? "")?.[1] ?? "?"
    const seen = (smsRequests.get(account) ?? 0) + 1
    smsRequests.set(account, seen)
    if (account === "AC-revoked") return response.writeHead(401).end()
    if (account === "AC-flaky" && seen <= 2) return response.writeHead(503).end()
    if (account === "AC-down") return response.writeHead(503).end()
    response
      .writeHead(201, { "content-type": "application/json" })
      .end(JSON.stringify({ sid: `SM-${account}`, status: "queued" }))
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  port = (http.address() as AddressInfo).port
})
afterAll(async () => {
  await mail.close()
  await new Promise<void>((resolve) => http.close(() => resolve()))
})

const connectors = Effect.runSync(
  Effect.all([SmtpConnector.connector, HttpConnector.connector(HttpApiDescriptor.twilioSms)]).pipe(
    Effect.provide(EgressPolicy.layer({ allowLoopback: true }))
  )
)
const PatchbayLayer = Activities.layer.pipe(
  Layer.provideMerge(Credentials.layerMemory(connectors)),
  Layer.provideMerge(Actor.layer({ orgId }))
)
const TestLayer = NotifyLive.pipe(Layer.provideMerge(WorkflowEngine.layerMemory), Layer.provideMerge(PatchbayLayer))

const setup = (account: string) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const org = { type: "organization" as const, id: orgId }
    const sms = yield* instances.create({
      connector: "twilio-sms",
      instanceName: `sms-${account}`,
      configuration: { base_url: `http://127.0.0.1:${port}`, sms_from: "+15550000000" }
    })
    yield* vault.create({ instanceId: sms.id, scope: org, credentials: { username: account, password: "token" } })
    const email = yield* instances.create({
      connector: "smtp",
      instanceName: `mail-${account}`,
      configuration: { host: "127.0.0.1", port: mail.port, security: "none", from: "patchbay@example.com" }
    })
    mail.users.set(`notifier-${account}`, "mail-pass")
    yield* vault.create({
      instanceId: email.id,
      scope: org,
      credentials: { username: `notifier-${account}`, password: "mail-pass" }
    })
    return { smsInstanceId: sms.id, emailInstanceId: email.id }
  })

describe("Notify workflow on WorkflowEngine.layerMemory", () => {
  layer(TestLayer, { excludeTestServices: true })((it) => {
    it.effect("texts and emails", () =>
      Effect.gen(function* () {
        const ids = yield* setup("AC-ok")
        const result = yield* Notify.execute({ ...ids, phone: "+15551234567", message: "db-1 is down" })
        assert.strictEqual(result.smsId, "SM-AC-ok")
        assert.include(mail.received.at(-1)!.raw, "db-1 is down")
      })
    )

    it.effect("retries a TransientFailure with backoff until it succeeds", () =>
      Effect.gen(function* () {
        const ids = yield* setup("AC-flaky")
        const result = yield* Notify.execute({ ...ids, phone: "+15551234567", message: "flaky provider" })
        assert.strictEqual(result.smsId, "SM-AC-flaky")
        assert.strictEqual(smsRequests.get("AC-flaky"), 3)
      })
    )

    it.effect("gives up after the configured retries with the TransientFailure", () =>
      Effect.gen(function* () {
        const ids = yield* setup("AC-down")
        const error = yield* Effect.flip(Notify.execute({ ...ids, phone: "+15551234567", message: "provider down" }))
        assert.strictEqual(error._tag, "TransientFailure")
        assert.isTrue(error.retryable)
        // the first attempt and `times: 3` retries
        assert.strictEqual(smsRequests.get("AC-down"), 4)
      })
    )

    it.effect("never retries ReconnectRequired and does not go on to the email", () =>
      Effect.gen(function* () {
        const ids = yield* setup("AC-revoked")
        const before = mail.received.length
        const error = yield* Effect.flip(Notify.execute({ ...ids, phone: "+15551234567", message: "revoked token" }))
        assert.strictEqual(error._tag, "ReconnectRequired")
        assert.strictEqual(smsRequests.get("AC-revoked"), 1)
        assert.strictEqual(mail.received.length, before)
      })
    )
  })
})
