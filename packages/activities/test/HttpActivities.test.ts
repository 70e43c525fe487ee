import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, layer } from "@effect/vitest"
import { ConnectorInstances } from "@patchbay/core"
import { Effect, Sink } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Activities from "../src/Activities.js"
import { activitiesLayer, connect, rotate } from "./fixtures.js"

let server: Server
let port: number
const forms: Array<Record<string, string>> = []

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Array<Buffer> = []
    request.on("data", (c: Buffer) => chunks.push(c))
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
  })

/** A Twilio-style API (basic auth AC1:tok-good) and a file host (bearer file-token). */
beforeAll(async () => {
  server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1")
    const auth = request.headers.authorization ?? ""
    if (url.pathname.startsWith("/2010-04-01/Accounts/")) {
      const [user, pass] = Buffer.from(auth.replace(/^Basic /, ""), "base64")
        .toString()
        .split(":")
      if (pass !== "tok-good") return response.writeHead(401, { "content-type": "application/json" }).end("{}")
      if (url.pathname.endsWith(".json") && request.method === "GET") return response.writeHead(200).end("{}")
      const form = Object.fromEntries(new URLSearchParams(await readBody(request)))
      if (form.Body === "slow down") return response.writeHead(429, { "retry-after": "7" }).end()
      forms.push({ ...form, user: user ?? "" })
      return response
        .writeHead(201, { "content-type": "application/json" })
        .end(JSON.stringify({ sid: `SM${forms.length}`, status: "queued" }))
    }
    if (!auth.startsWith("Bearer file-token")) return response.writeHead(401).end()
    if (url.pathname === "/files/report.csv") {
      return response.writeHead(200, { "content-type": "text/csv" }).end("id,name\n1,alpha\n2,beta\n")
    }
    if (url.pathname === "/files/big.bin") {
      response.writeHead(200, { "content-type": "application/octet-stream" })
      for (let i = 0; i < 64; i++) response.write(Buffer.alloc(1024, i))
      return response.end()
    }
    return response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const sms = (name: string, account: string, token: string) =>
  Effect.suspend(() =>
    connect(
      "twilio-sms",
      name,
      { base_url: `http://127.0.0.1:${port}`, sms_from: "+15550000000", timeout_ms: 5000 },
      { username: account, password: token }
    )
  )

const files = (name: string, token: string) =>
  Effect.suspend(() =>
    connect("http-api", name, { base_url: `http://127.0.0.1:${port}`, timeout_ms: 5000 }, { token }, "bearer")
  )

describe("SendSms", () => {
  layer(activitiesLayer(), { excludeTestServices: true })((it) => {
    it.effect("posts the form and returns the provider's id", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* sms("sms-ok", "AC1", "tok-good")
        const receipt = yield* activities.sendSms({ instanceId, to: "+15551234567", body: "Deploy finished" })
        assert.strictEqual(receipt.status, "queued")
        assert.deepStrictEqual(forms.at(-1), {
          To: "+15551234567",
          From: "+15550000000",
          Body: "Deploy finished",
          user: "AC1"
        })
      })
    )

    it.effect("429 is a TransientFailure with the provider's Retry-After", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* sms("sms-limited", "AC2", "tok-good")
        const error = yield* Effect.flip(activities.sendSms({ instanceId, to: "+15551234567", body: "slow down" }))
        assert.strictEqual(error._tag, "TransientFailure")
        if (error._tag === "TransientFailure") assert.strictEqual(error.retryAfterMillis, 7000)
      })
    )

    it.effect("401 is ReconnectRequired until a working token is stored", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instances = yield* ConnectorInstances.ConnectorInstances
        const instanceId = yield* sms("sms-rotated", "AC3", "tok-old")
        const error = yield* Effect.flip(activities.sendSms({ instanceId, to: "+15551234567", body: "hi" }))
        assert.strictEqual(error._tag, "ReconnectRequired")
        assert.strictEqual((yield* instances.get(instanceId)).status, "reconnect_required")
        yield* rotate(instanceId, { username: "AC3", password: "tok-good" })
        yield* activities.sendSms({ instanceId, to: "+15551234567", body: "hi" })
        assert.strictEqual((yield* instances.get(instanceId)).status, "active")
      })
    )

    it.effect("an invalid number is rejected before any request", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const before = forms.length
        const instanceId = yield* sms("sms-invalid", "AC4", "tok-good")
        const error = yield* Effect.flip(activities.sendSms({ instanceId, to: "555-1234", body: "hi" }))
        assert.strictEqual(error._tag, "ActivityRejected")
        assert.include(error.message, "E.164")
        assert.strictEqual(forms.length, before)
      })
    )
  })
})

describe("FetchFile", () => {
  layer(activitiesLayer(), { excludeTestServices: true })((it) => {
    it.effect("streams the file into the sink", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* files("files-ok", "file-token")
        const chunks: Array<Uint8Array> = []
        const fetched = yield* activities.fetchFile(
          { instanceId, path: "/files/report.csv" },
          Sink.forEach((chunk: Uint8Array) => Effect.sync(() => void chunks.push(chunk)))
        )
        assert.strictEqual(fetched.contentType, "text/csv")
        assert.strictEqual(Buffer.concat(chunks).toString(), "id,name\n1,alpha\n2,beta\n")
        assert.strictEqual(fetched.bytes, 23)
      })
    )

    it.effect("a file over the size limit is rejected", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* files("files-big", "file-token-2")
        const error = yield* Effect.flip(
          activities.fetchFile({ instanceId, path: "/files/big.bin", maxBytes: 10_000 }, Sink.drain)
        )
        assert.strictEqual(error._tag, "ActivityRejected")
      })
    )

    it.effect("a sink's own failure passes through unchanged", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* files("files-sink", "file-token-3")
        const error = yield* Effect.flip(
          activities.fetchFile({ instanceId, path: "/files/report.csv" }, Sink.fail("disk full" as const))
        )
        assert.strictEqual(error, "disk full")
      })
    )

    it.effect("a missing file is ActivityRejected", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instanceId = yield* files("files-404", "file-token-4")
        const error = yield* Effect.flip(activities.fetchFile({ instanceId, path: "/files/nope" }, Sink.collectAll()))
        assert.strictEqual(error._tag, "ActivityRejected")
      })
    )
  })
})

describe("classification", () => {
  layer(activitiesLayer(), { excludeTestServices: true })((it) => {
    it.effect(
      "no token set asks to reconnect an authorization-code instance, to replace a client-credentials one",
      () =>
        Effect.gen(function* () {
          const activities = yield* Activities.Activities
          const instances = yield* ConnectorInstances.ConnectorInstances
          const configuration = { base_url: `http://127.0.0.1:${port}`, timeout_ms: 5000 }
          for (const [authType, action] of [
            ["oauth2_authorization_code", "reconnect"],
            ["oauth2_client_credentials", "replace_credentials"],
            ["bearer", "replace_credentials"]
          ] as const) {
            const instanceId = yield* connect("http-api", `no-token-${authType}`, configuration, undefined, authType)
            const error = yield* Effect.flip(
              activities.fetchFile({ instanceId, path: "/files/report.csv" }, Sink.drain)
            )
            assert.strictEqual(error._tag, "ReconnectRequired", authType)
            if (error._tag === "ReconnectRequired") assert.strictEqual(error.action, action, authType)
            assert.strictEqual((yield* instances.get(instanceId)).status, "reconnect_required", authType)
          }
        })
    )

    it.effect("an operation the connector does not declare is ActivityRejected, before any credential is read", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const instances = yield* ConnectorInstances.ConnectorInstances
        const configuration = { base_url: `http://127.0.0.1:${port}`, timeout_ms: 5000 }
        // No credential is stored: were it resolved first, this would be ReconnectRequired.
        const instanceId = yield* connect("http-api", "no-sql-here", configuration, undefined, "bearer")
        const error = yield* Effect.flip(activities.runQuery({ instanceId, sql: "select 1" }))
        assert.strictEqual(error._tag, "ActivityRejected")
        assert.include(error.message, "run_query")
        assert.strictEqual((yield* instances.get(instanceId)).status, "active")
      })
    )
  })
})
