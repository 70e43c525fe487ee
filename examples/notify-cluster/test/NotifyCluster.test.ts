import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { createServer as createHttpServer } from "node:http"
import { type AddressInfo, createConnection, createServer as createTcpServer, type Socket } from "node:net"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, it } from "@effect/vitest"
import { MailServer, Ports } from "@patchbay/testing"
import { Deferred, Effect, Fiber, Layer, Redacted, Schema } from "effect"
import { inject } from "vitest"
import * as Cluster from "../src/Cluster.js"
import * as Notify from "../src/Notify.js"
import * as PatchbayStack from "../src/PatchbayStack.js"
import * as Provision from "../src/Provision.js"
import * as RunnerProcess from "../src/RunnerProcess.js"
import * as SharedEnv from "../src/SharedEnv.js"

const url = Redacted.make(inject("databaseUrl"))
const orgId = "0190a000-0000-7000-8000-00000000c1a5"

/** A safety bound that fails the test (never a synchronisation point). */
const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(effect, { duration: "90 seconds", onTimeout: () => new Error(`timed out waiting for ${what}`) })

/** The SMS API: answers every message with 201 and counts them. */
const smsApi = Effect.gen(function* () {
  let count = 0
  const server = createHttpServer((_request, response) => {
    count += 1
    response
      .writeHead(201, { "content-type": "application/json" })
      .end(JSON.stringify({ sid: `SM${count}`, status: "queued" }))
  })
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
    () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )
  return { port: (server.address() as AddressInfo).port, count: () => count }
})

/**
 * The owner of a TCP connection to 127.0.0.1:`serverPort` from `clientPort`, among `pids`: the
 * process holding the socket's inode (Linux /proc).
 */
const ownerOf = (clientPort: number, serverPort: number, pids: ReadonlyArray<number>): number | undefined => {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0")
  const row = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1]?.endsWith(`:${hex(clientPort)}`) && fields[2]?.endsWith(`:${hex(serverPort)}`))
  const inode = row?.[9]
  if (inode === undefined) return undefined
  const holds = (pid: number) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`)
    } catch {
      // the process has ended, or one of its descriptors closed while we looked
      return false
    }
  }
  return pids.find(holds)
}

/** The payload of a stored workflow request: an activity's name and attempt, or the run's payload. */
const decodeRequest = Schema.decodeUnknownSync(
  Schema.parseJson(Schema.Struct({ name: Schema.optional(Schema.String), attempt: Schema.optional(Schema.Number) }))
)

interface Connection {
  readonly clientPort: number
  /** The runner process that opened it, looked up while it was open. */
  readonly owner: number | undefined
}

/**
 * The SMTP server behind a gate: the first connection is held (nothing forwarded, not even the
 * greeting) until its client goes away; every later one is piped to the real server.
 */
const mailPeer = Effect.gen(function* () {
  const mail = yield* Effect.acquireRelease(
    Effect.promise(() => MailServer.start({ notifier: "mail-pass" })),
    (mail) => Effect.promise(mail.close)
  )
  const held = yield* Deferred.make<Connection>()
  const heldClosed = yield* Deferred.make<void>()
  const connections: Array<Connection> = []
  const sockets = new Set<Socket>()
  let pids: ReadonlyArray<number> = []
  const gate = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    const clientPort = socket.remotePort ?? 0
    const connection = { clientPort, owner: ownerOf(clientPort, port, pids) }
    connections.push(connection)
    if (connections.length === 1) {
      socket.on("error", () => {})
      socket.on("close", () => Deferred.unsafeDone(heldClosed, Effect.void))
      Deferred.unsafeDone(held, Effect.succeed(connection))
      return
    }
    const upstream = createConnection(mail.port, "127.0.0.1")
    upstream.on("error", () => socket.destroy())
    socket.on("error", () => upstream.destroy())
    socket.pipe(upstream).pipe(socket)
  })
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => void gate.listen(0, "127.0.0.1", () => resume(Effect.void))),
    () =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        gate.close(() => resume(Effect.void))
      })
  )
  const port = (gate.address() as AddressInfo).port
  return {
    port,
    mail,
    held,
    heldClosed,
    connections,
    watch: (runnerPids: ReadonlyArray<number>) => {
      pids = runnerPids
    }
  }
})

describe("Notify on two runner processes", () => {
  it.scopedLive(
    "a runner killed mid-workflow: the other takes over, the SMS is not resent, the email is sent once",
    () =>
      Effect.gen(function* () {
        const sms = yield* smsApi
        const smtp = yield* mailPeer
        const env = SharedEnv.make(url)
        const ids = yield* Provision.provision({
          orgId,
          runId: "kill-test",
          smsBaseUrl: `http://127.0.0.1:${sms.port}`,
          smsAccount: "AC-kill",
          smtpHost: "127.0.0.1",
          smtpPort: smtp.port,
          smtpUser: "notifier",
          smtpPassword: "mail-pass",
          smtpTimeoutMillis: 120_000
        }).pipe(
          Effect.provide(PatchbayStack.layer({ url, migrate: true, allowLoopback: true })),
          Effect.provide(SharedEnv.layerConfig(env))
        )
        const client = yield* Layer.build(Cluster.layerClient({ url }))

        const logs: Array<string> = []
        const runners = yield* Effect.forEach(
          ["runner-1", "runner-2"],
          (name) =>
            Effect.promise(Ports.freePort).pipe(
              Effect.flatMap((port) =>
                within(
                  `${name} ready`,
                  RunnerProcess.spawn({ name, host: "127.0.0.1", port, env, onLog: (n, l) => logs.push(`[${n}] ${l}`) })
                )
              )
            ),
          { concurrency: "unbounded" }
        )
        smtp.watch(runners.map((runner) => runner.pid))

        const payload = {
          orgId,
          ...ids,
          phone: "+15551234567",
          team: ["team@example.com"],
          message: "db-1 is down"
        }
        const run = yield* Effect.fork(Notify.Notify.execute(payload).pipe(Effect.provide(client)))

        // The email step has reached the mail server, after the SMS step was answered.
        const held = yield* within("the email step to connect", Deferred.await(smtp.held))
        assert.strictEqual(sms.count(), 1)
        const victim = runners.find((runner) => runner.pid === held.owner)
        const survivor = runners.find((runner) => runner.pid !== held.owner)
        assert.isDefined(victim, `the held SMTP connection belongs to a runner (${logs.join("\n")})`)
        assert.isDefined(survivor)

        yield* victim!.kill("SIGKILL")
        const killed = yield* Effect.flip(victim!.exitCode)
        assert.include(killed.message, "SIGKILL")
        yield* within("the held connection to close", Deferred.await(smtp.heldClosed))

        const result = yield* within("the workflow's result", Fiber.join(run))

        // The SMS step ran once: its result came from the journal after the takeover.
        assert.strictEqual(result.smsId, "SM1")
        assert.strictEqual(sms.count(), 1)
        // The email step ran again on the survivor and was delivered once.
        assert.strictEqual(smtp.connections.length, 2)
        assert.strictEqual(smtp.connections[1].owner, survivor!.pid)
        assert.strictEqual(smtp.mail.received.length, 1)
        assert.include(smtp.mail.received[0].raw, "db-1 is down")
        assert.include(result.messageId, "@")
        assert.isTrue(yield* survivor!.isRunning)

        // Exactly once in the cluster's storage: one run request and one journaled result per step.
        const executionId = yield* Notify.Notify.executionId(payload)
        const rows = yield* Effect.gen(function* () {
          const sql = yield* PgClient.PgClient
          return yield* sql<{ tag: string; payload: string; processed: boolean; replies: string }>`
            SELECT m.tag, m.payload, m.processed,
              (SELECT count(*) FROM cluster_replies r WHERE r.request_id = m.id AND r.kind = 0) AS replies
            FROM cluster_messages m
            WHERE m.entity_type = 'Workflow/Notify' AND m.entity_id = ${executionId} AND m.tag IS NOT NULL
            ORDER BY m.id`
        }).pipe(Effect.provide(PgClient.layer({ url, maxConnections: 1 })))
        const requests = rows.map((row) => ({
          ...decodeRequest(row.payload),
          tag: row.tag,
          processed: row.processed,
          replies: Number(row.replies)
        }))
        assert.deepStrictEqual(
          requests.map(({ tag, name, attempt }) => `${tag}:${name ?? ""}:${attempt ?? ""}`).sort(),
          ["activity:email team:1", "activity:text on-call:1", "run::"]
        )
        for (const request of requests) {
          assert.isTrue(request.processed, `${request.tag} ${request.name ?? ""} processed`)
          assert.strictEqual(request.replies, 1, `${request.tag} ${request.name ?? ""} has one result`)
        }
        const polled = yield* Notify.Notify.poll(executionId).pipe(Effect.provide(client))
        assert.strictEqual(polled?._tag, "Complete")

        // Starting it again (same idempotency key) returns the stored result and sends nothing.
        const again = yield* within(
          "the repeated run's result",
          Notify.Notify.execute(payload).pipe(Effect.provide(client))
        )
        assert.deepStrictEqual(again, result)
        assert.strictEqual(sms.count(), 1)
        assert.strictEqual(smtp.mail.received.length, 1)
      }).pipe(Effect.provide(NodeContext.layer)),
    180_000
  )
})
