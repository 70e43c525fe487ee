import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, layer } from "@effect/vitest"
import { AuditLog, Ids } from "@patchbay/core"
import { Cause, Effect, Exit, Layer, Sink, Tracer } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Activities from "../src/Activities.js"
import { activitiesLayer, connect, orgId } from "./fixtures.js"

/** Everything the spans of a run recorded: names, attributes, events and how they ended. */
const recorded: Array<string> = []
const tracer = Tracer.make({
  span: (name, parent, context, links, startTime, kind) => {
    const attributes = new Map<string, unknown>()
    const span: Tracer.Span = {
      _tag: "Span",
      name,
      spanId: `${recorded.length}`,
      traceId: "t",
      parent,
      context,
      status: { _tag: "Started", startTime },
      attributes,
      links,
      sampled: true,
      kind,
      end: (_endTime, exit) => {
        recorded.push(`${name} ${JSON.stringify([...attributes])}`)
        if (Exit.isFailure(exit)) recorded.push(Cause.pretty(exit.cause, { renderErrorCause: true }))
      },
      attribute: (key, value) => {
        attributes.set(key, value)
      },
      event: (event, _time, eventAttributes) => {
        recorded.push(`${event} ${JSON.stringify(eventAttributes ?? {})}`)
      },
      addLinks: () => {}
    }
    return span
  },
  context: (f) => f()
})

const password = "Pa55:w0rd/é+x"
const token = "tok_9f8e7d6c5b4a"
/** The secrets and the spellings peers echo them in. */
const forms = [
  password,
  token,
  encodeURIComponent(password),
  Buffer.from(`AC9:${password}`).toString("base64"),
  Buffer.from(password).toString("base64"),
  // fetch's Basic header is base64 of Latin-1 bytes.
  Buffer.from(`AC9:${password}`, "latin1").toString("base64"),
  encodeURIComponent(token)
]

let server: Server
let port: number
/** A peer that answers every request with 401 and a body echoing what it was sent. */
beforeAll(async () => {
  server = createServer((request, response) => {
    const auth = request.headers.authorization ?? ""
    const basic = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : ""
    const body = JSON.stringify({
      error: `bad credentials: ${auth} (${basic}) ${encodeURIComponent(basic)}`,
      message: `token ${auth.replace(/^Bearer /, "")} refused`
    })
    const status = request.url?.includes("/Accounts/") ? 400 : request.url?.includes("boom") ? 500 : 401
    response.writeHead(status, { "content-type": "application/json" }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

let tries = 0
let failures = 0
const leaks = (label: string, text: string) => {
  for (const form of forms) {
    tries++
    if (text.includes(form)) {
      failures++
      assert.fail(`${label} holds a secret spelling`)
    }
  }
}

describe("secrets never appear in text from peers", () => {
  layer(Layer.merge(activitiesLayer(), Layer.setTracer(tracer)), { excludeTestServices: true })((it) => {
    it.effect("a 400, 401 or 500 body echoing Basic and Bearer credentials reaches no error, audit row or span", () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const sms = yield* connect(
          "twilio-sms",
          "echo-sms",
          { base_url: `http://127.0.0.1:${port}`, sms_from: "+15550000000", timeout_ms: 5000 },
          { username: "AC9", password }
        )
        const files = yield* connect(
          "http-api",
          "echo-files",
          { base_url: `http://127.0.0.1:${port}`, timeout_ms: 5000 },
          { token },
          "bearer"
        )
        const errors = [
          yield* Effect.flip(activities.sendSms({ instanceId: sms, to: "+15551234567", body: "hi" })),
          yield* Effect.flip(activities.fetchFile({ instanceId: files, path: "/files/x" }, Sink.drain)),
          yield* Effect.flip(activities.fetchFile({ instanceId: files, path: "/boom" }, Sink.drain))
        ]
        for (const error of errors) {
          leaks("error", `${error.message} ${JSON.stringify(error)} ${error.stack ?? ""}`)
        }
        const audit = yield* AuditLog.AuditLog
        for (const instanceId of [sms, files]) {
          const events = yield* audit.list(Ids.OrgId.make(orgId), {
            instanceId: Ids.InstanceId.make(instanceId),
            limit: 50
          })
          leaks("audit", JSON.stringify(events))
        }
        // The peers' text did arrive, with the secrets cut out.
        assert.include(errors.map((e) => e.message).join(" ") + recorded.join(" "), "[redacted]")
        assert.isAbove(recorded.length, 0)
        leaks("spans", recorded.join("\n"))
        console.log(`secret sinks (HTTP peers): ${tries} tries, ${failures} failures`)
      })
    )
  })
})
