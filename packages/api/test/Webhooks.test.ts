import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, layer } from "@effect/vitest"
import { WebhookSignature, WebhookWorker } from "@patchbay/webhooks"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ApiError } from "../src/index.js"
import { call, clientAs, databaseConfiguration, ServerLive, ServerOnPostgres } from "./support.js"

/** A webhook receiver on 127.0.0.1: `/ok` answers 200, `/fail` 500; it keeps what it received. */
interface Received {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}
const received: Array<Received> = []
const receiver = createServer((request, response) => {
  const chunks: Array<Buffer> = []
  request.on("data", (chunk: Buffer) => chunks.push(chunk))
  request.on("end", () => {
    received.push({ path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks) })
    response.statusCode = request.url === "/ok" ? 200 : 500
    response.end()
  })
})
let receiverUrl = ""
beforeAll(
  () =>
    new Promise<void>((resolve) =>
      receiver.listen(0, "127.0.0.1", () => {
        receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
        resolve()
      })
    )
)
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())))

const suite = (name: string, server: typeof ServerLive | typeof ServerOnPostgres) =>
  describe(`HTTP API: webhook subscriptions on ${name}`, () => {
    layer(server, { excludeTestServices: true })((it) => {
      it.effect("an admin creates one: the secret comes back once, never in list or get", () =>
        Effect.gen(function* () {
          const admin = yield* clientAs("admin")
          const created = yield* admin.webhooks.create({
            payload: { url: `${receiverUrl}/ok`, eventTypes: ["instance.created"] }
          })
          const secret = Redacted.value(created.secret)
          assert.isAtLeast(secret.length, 32)
          assert.deepStrictEqual(created.subscription.eventTypes, ["instance.created"])
          assert.isTrue(created.subscription.enabled)
          assert.strictEqual(created.subscription.secretVersion, 1)

          const id = created.subscription.id
          const listed = yield* call("GET", "/api/v1/webhook-subscriptions", { as: "admin" })
          assert.strictEqual(listed.status, 200)
          assert.isTrue(listed.json.some((s: { id: string }) => s.id === id))
          assert.notInclude(listed.text, secret)
          assert.notInclude(listed.text, '"secret"')
          const got = yield* call("GET", `/api/v1/webhook-subscriptions/${id}`, { as: "admin" })
          assert.strictEqual(got.status, 200)
          assert.strictEqual(got.json.url, `${receiverUrl}/…`)
          assert.notInclude(got.text, secret)
          assert.notProperty(got.json, "secret")

          const updated = yield* admin.webhooks.update({
            path: { subscription_id: id },
            payload: { enabled: false, eventTypes: null }
          })
          assert.isFalse(updated.enabled)
          assert.isNull(updated.eventTypes)
          assert.notInclude(JSON.stringify(updated), secret)

          const rotated = yield* admin.webhooks.rotateSecret({ path: { subscription_id: id }, payload: {} })
          assert.notStrictEqual(Redacted.value(rotated.secret), secret)
          assert.strictEqual(rotated.subscription.secretVersion, 2)
          assert.isNotNull(rotated.subscription.previousSecretUntil)

          yield* admin.webhooks.delete({ path: { subscription_id: id } })
          const gone = yield* Effect.flip(admin.webhooks.get({ path: { subscription_id: id } }))
          assert.instanceOf(gone, ApiError.SubscriptionNotFound)
          const malformed = yield* call("GET", "/api/v1/webhook-subscriptions/not-a-uuid", { as: "admin" })
          assert.strictEqual(malformed.status, 404)
          assert.strictEqual(malformed.json._tag, "SubscriptionNotFound")
        })
      )

      it.effect("members and viewers are refused; another organization neither sees nor touches it", () =>
        Effect.gen(function* () {
          const admin = yield* clientAs("admin")
          const created = yield* admin.webhooks.create({ payload: { url: `${receiverUrl}/ok` } })
          const id = created.subscription.id
          for (const caller of ["member", "viewer"] as const) {
            const client = yield* clientAs(caller)
            const refused = yield* Effect.flip(client.webhooks.list())
            assert.instanceOf(refused, ApiError.Forbidden)
            const create = yield* Effect.flip(client.webhooks.create({ payload: { url: `${receiverUrl}/ok` } }))
            assert.instanceOf(create, ApiError.Forbidden)
            const rotate = yield* Effect.flip(
              client.webhooks.rotateSecret({ path: { subscription_id: id }, payload: {} })
            )
            assert.instanceOf(rotate, ApiError.Forbidden)
          }

          const outsider = yield* clientAs("outsider")
          const theirs = yield* outsider.webhooks.list()
          assert.isFalse(theirs.some((s) => s.id === id))
          const path = { subscription_id: id }
          assert.instanceOf(yield* Effect.flip(outsider.webhooks.get({ path })), ApiError.SubscriptionNotFound)
          assert.instanceOf(
            yield* Effect.flip(outsider.webhooks.update({ path, payload: { enabled: false } })),
            ApiError.SubscriptionNotFound
          )
          assert.instanceOf(
            yield* Effect.flip(outsider.webhooks.rotateSecret({ path, payload: {} })),
            ApiError.SubscriptionNotFound
          )
          assert.instanceOf(
            yield* Effect.flip(outsider.webhooks.listDeliveries({ path, urlParams: {} })),
            ApiError.SubscriptionNotFound
          )
          assert.instanceOf(yield* Effect.flip(outsider.webhooks.delete({ path })), ApiError.SubscriptionNotFound)
          // Still there, untouched, for its own organization.
          const mine = yield* admin.webhooks.get({ path })
          assert.isTrue(mine.enabled)
          assert.strictEqual(mine.secretVersion, 1)
          yield* admin.webhooks.delete({ path })
        })
      )

      it.effect("plain http to a public address is refused with a typed 422", () =>
        Effect.gen(function* () {
          const admin = yield* clientAs("admin")
          const refused = yield* Effect.flip(admin.webhooks.create({ payload: { url: "http://93.184.215.14/hook" } }))
          assert.instanceOf(refused, ApiError.InvalidWebhookUrl)
          const raw = yield* call("POST", "/api/v1/webhook-subscriptions", {
            as: "admin",
            body: { url: "http://93.184.215.14/hook" }
          })
          assert.strictEqual(raw.status, 422)
          assert.strictEqual(raw.json._tag, "InvalidWebhookUrl")
          assert.notInclude(raw.text, "93.184.215.14")
          const created = yield* admin.webhooks.create({ payload: { url: `${receiverUrl}/ok` } })
          const update = yield* Effect.flip(
            admin.webhooks.update({
              path: { subscription_id: created.subscription.id },
              payload: { url: "http://93.184.215.14/hook" }
            })
          )
          assert.instanceOf(update, ApiError.InvalidWebhookUrl)
          yield* admin.webhooks.delete({ path: { subscription_id: created.subscription.id } })
          const badType = yield* call("POST", "/api/v1/webhook-subscriptions", {
            as: "admin",
            body: { url: `${receiverUrl}/ok`, event_types: ["instance.exploded"] }
          })
          assert.strictEqual(badType.status, 400)
        })
      )

      it.effect(
        "deliveries after a worker drain: signed, listed without bodies or secrets, a dead one redelivered",
        () =>
          Effect.gen(function* () {
            const admin = yield* clientAs("admin")
            const ok = yield* admin.webhooks.create({
              payload: { url: `${receiverUrl}/ok`, eventTypes: ["instance.created"] }
            })
            const failing = yield* admin.webhooks.create({
              payload: { url: `${receiverUrl}/fail`, eventTypes: ["instance.created"] }
            })
            const instance = yield* admin.connectorInstances.create({
              headers: {},
              payload: { connectorId: "postgres", instanceName: "Webhook source", configuration: databaseConfiguration }
            })
            received.length = 0
            yield* WebhookWorker.drain({ maxAttempts: 1 })

            const okRequests = received.filter((r) => r.path === "/ok")
            const created = okRequests.find((r) => r.body.toString("utf8").includes(instance.id))
            assert.isDefined(created)
            yield* WebhookSignature.verify({
              secret: ok.secret,
              header: created!.headers[WebhookSignature.header.toLowerCase()] as string | undefined,
              body: created!.body
            })
            const wrong = yield* Effect.flip(
              WebhookSignature.verify({
                secret: failing.secret,
                header: created!.headers[WebhookSignature.header.toLowerCase()] as string | undefined,
                body: created!.body
              })
            )
            assert.strictEqual(wrong._tag, "SignatureMismatch")

            const delivered = yield* admin.webhooks.listDeliveries({
              path: { subscription_id: ok.subscription.id },
              urlParams: {}
            })
            const mine = delivered.find((d) => d.eventType === "instance.created")
            assert.isDefined(mine)
            assert.deepInclude(mine!, { status: "delivered", attempts: 1, lastStatusCode: 200 })
            assert.isNotNull(mine!.deliveredAt)

            const raw = yield* call(
              "GET",
              `/api/v1/webhook-subscriptions/${failing.subscription.id}/deliveries?status=dead`,
              {
                as: "admin"
              }
            )
            assert.strictEqual(raw.status, 200)
            // Other tests of the run may add events of the organization to the same database.
            assert.isAtLeast(raw.json.length, 1)
            for (const dead of raw.json)
              assert.deepInclude(dead, { status: "dead", attempts: 1, last_status_code: 500 })
            assert.notInclude(raw.text, instance.id)
            assert.notInclude(raw.text, Redacted.value(failing.secret))
            assert.notInclude(raw.text, "Webhook source")

            const redelivered = yield* admin.webhooks.redeliver({ path: { delivery_id: raw.json[0].id } })
            assert.strictEqual(redelivered.status, "pending")
            assert.strictEqual(redelivered.attempts, 0)
            const again = yield* Effect.flip(admin.webhooks.redeliver({ path: { delivery_id: raw.json[0].id } }))
            assert.instanceOf(again, ApiError.DeliveryNotFound)
            const outsider = yield* clientAs("outsider")
            const foreign = yield* Effect.flip(outsider.webhooks.redeliver({ path: { delivery_id: mine!.id } }))
            assert.instanceOf(foreign, ApiError.DeliveryNotFound)
            const member = yield* clientAs("member")
            const forbidden = yield* Effect.flip(member.webhooks.redeliver({ path: { delivery_id: mine!.id } }))
            assert.instanceOf(forbidden, ApiError.Forbidden)
          })
      )
    })
  })

suite("the memory store", ServerLive)
suite("SqlStore and PostgreSQL", ServerOnPostgres)
