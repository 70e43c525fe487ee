/**
 * The whole demo in one command: a PostgreSQL (the one at `PATCHBAY_DATABASE_URL`, or a throwaway
 * server), an SMS API and an SMTP server on 127.0.0.1, the instances and credentials stored once,
 * two runner processes, one Notify run started by a client, its result printed, everything
 * stopped.
 */
import { randomUUID } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { MailServer, Ports, PostgresServer } from "@patchbay/testing"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Cluster from "./Cluster.js"
import * as Notify from "./Notify.js"
import * as PatchbayStack from "./PatchbayStack.js"
import * as Provision from "./Provision.js"
import * as RunnerProcess from "./RunnerProcess.js"
import * as SharedEnv from "./SharedEnv.js"

/** The given database, or a throwaway PostgreSQL stopped at the end. */
const database = Effect.gen(function* () {
  const given = yield* Config.option(Config.redacted("PATCHBAY_DATABASE_URL"))
  if (Option.isSome(given)) return given.value
  yield* Console.log("starting a throwaway PostgreSQL…")
  const server = yield* Effect.acquireRelease(
    Effect.promise(() => PostgresServer.start()),
    (server) => Effect.promise(() => server.dispose())
  )
  return Redacted.make(server.url)
})

/** A Twilio-style SMS API on 127.0.0.1 that accepts every message and counts them. */
const smsApi = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly close: () => Promise<void>; readonly count: () => number }>(
    (resume) => {
      let count = 0
      const server = createServer((_request, response) => {
        count += 1
        response
          .writeHead(201, { "content-type": "application/json" })
          .end(JSON.stringify({ sid: `SM${count}`, status: "queued" }))
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            port: (server.address() as AddressInfo).port,
            close: () => new Promise<void>((done) => server.close(() => done())),
            count: () => count
          })
        )
      )
    }
  ),
  (api) => Effect.promise(api.close)
)

const demo = Effect.gen(function* () {
  const url = yield* database
  const env = SharedEnv.make(url)
  const sms = yield* smsApi
  const mail = yield* Effect.acquireRelease(
    Effect.promise(() => MailServer.start({ notifier: "mail-pass" })),
    (mail) => Effect.promise(mail.close)
  )
  const runId = randomUUID()
  const orgId = randomUUID()
  const ids = yield* Provision.provision({
    orgId,
    runId,
    smsBaseUrl: `http://127.0.0.1:${sms.port}`,
    smsAccount: "AC-demo",
    smtpHost: "127.0.0.1",
    smtpPort: mail.port,
    smtpUser: "notifier",
    smtpPassword: "mail-pass",
    smtpTimeoutMillis: 30_000
  }).pipe(
    Effect.provide(PatchbayStack.layer({ url, migrate: true, allowLoopback: true })),
    Effect.provide(SharedEnv.layerConfig(env))
  )
  yield* Console.log(`instances stored: sms ${ids.smsInstanceId}, email ${ids.emailInstanceId}`)

  const client = yield* Layer.build(Cluster.layerClient({ url }))
  for (const name of ["runner-1", "runner-2"]) {
    const port = yield* Effect.promise(Ports.freePort)
    const runner = yield* RunnerProcess.spawn({
      name,
      host: "127.0.0.1",
      port,
      env,
      onLog: (runner, line) => process.stderr.write(`[${runner}] ${line}\n`)
    })
    yield* Console.log(`${name} ready on 127.0.0.1:${port} (pid ${runner.pid})`)
  }

  const result = yield* Notify.Notify.execute({
    orgId,
    ...ids,
    phone: "+15551234567",
    team: ["team@example.com"],
    message: `db-1 is down (run ${runId})`
  }).pipe(Effect.provide(client))
  yield* Console.log(`Notify completed: sms ${result.smsId}, email ${result.messageId}`)
  yield* Console.log(`the SMS API received ${sms.count()} message(s); the mail server ${mail.received.length}`)
})

NodeRuntime.runMain(demo.pipe(Effect.scoped, Effect.provide(NodeContext.layer)))
