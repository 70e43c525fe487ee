import { createServer, type Server, type Socket } from "node:net"
import type { Duplex } from "node:stream"
import { connect as connectTls, createServer as createTlsServer } from "node:tls"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { EgressPolicy } from "@patchbay/core"
import { Ports, SshServer, Tls } from "@patchbay/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as SshTunnels from "../src/SshTunnels.js"
import * as TunnelConfiguration from "../src/TunnelConfiguration.js"

const missing = !SshServer.available()
if (missing && process.env.CI === undefined) {
  console.warn("\n*** SKIPPING the SSH tunnel tests: /usr/sbin/sshd is missing or we are not root ***\n")
}

let ssh: SshServer.SshServer
let echo: Server
let echoPort = 0
let echoConnections = 0
const sockets = new Set<Socket>()

beforeAll(async () => {
  if (missing && process.env.CI === undefined) return
  ssh = await SshServer.start()
  echo = createServer((socket) => {
    echoConnections++
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve))
  const address = echo.address()
  echoPort = typeof address === "object" && address !== null ? address.port : 0
})

afterAll(async () => {
  if (missing && process.env.CI === undefined) return
  for (const socket of sockets) socket.destroy()
  await new Promise<void>((resolve) => echo.close(() => resolve()))
  await ssh.dispose()
})

const egress = EgressPolicy.make({ allowLoopback: true })

const configuration = (overrides: Partial<Record<string, unknown>> = {}) =>
  Schema.decodeUnknownSync(TunnelConfiguration.TunnelConfiguration)({
    host: "127.0.0.1",
    port: ssh.port,
    username: ssh.username,
    host_key_fingerprint: ssh.hostKeyFingerprint,
    ...overrides
  })

const credentials = (input: Record<string, string>) =>
  Schema.decodeUnknownSync(TunnelConfiguration.TunnelCredentials)(input)

/** Writes `text` and reads it back through the stream. */
const roundTrip = (stream: Duplex, text: string) =>
  Effect.async<string>((resume) => {
    let seen = ""
    const onData = (chunk: Buffer) => {
      seen += chunk.toString("utf8")
      if (seen.length >= text.length) {
        stream.off("data", onData)
        resume(Effect.succeed(seen))
      }
    }
    stream.on("data", onData)
    stream.write(text)
  })

const closed = (stream: Duplex) =>
  Effect.async<void>((resume) => {
    if (stream.destroyed) return resume(Effect.void)
    stream.once("close", () => resume(Effect.void))
    stream.end()
  })

/** Acquires a tunnel, echoes through it, and closes the tunnels. */
const echoThrough = (input: Record<string, string>) =>
  Effect.gen(function* () {
    const tunnels = SshTunnels.unsafeMake(egress)
    const tunnel = yield* tunnels.acquire("instance", configuration(), credentials(input))
    const stream = yield* tunnel.forward("127.0.0.1", echoPort)
    const answer = yield* roundTrip(stream, "ping")
    yield* closed(stream)
    yield* tunnels.closeAll
    return answer
  })

describe.skipIf(missing && process.env.CI === undefined)("SSH tunnel through Debian's sshd", () => {
  it.effect("forwards through the bastion with a private key", () =>
    Effect.gen(function* () {
      const before = ssh.accepted()
      assert.strictEqual(yield* echoThrough({ private_key: ssh.privateKey }), "ping")
      assert.strictEqual(ssh.accepted(), before + 1)
    })
  )

  it.effect("forwards with an encrypted private key and its passphrase", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* echoThrough({ private_key: ssh.encryptedPrivateKey, passphrase: ssh.passphrase }),
        "ping"
      )
    })
  )

  it.effect("forwards with a password", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* echoThrough({ password: ssh.password }), "ping")
    })
  )

  it.effect("refuses a bastion whose host key is not the expected one, before any forwarding", () =>
    Effect.gen(function* () {
      const before = ssh.accepted()
      const connectionsBefore = echoConnections
      const tunnels = SshTunnels.unsafeMake(egress)
      const error = yield* Effect.flip(
        tunnels.acquire(
          "instance",
          configuration({ host_key_fingerprint: `SHA256:${"A".repeat(43)}` }),
          credentials({ private_key: ssh.privateKey })
        )
      )
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, ssh.hostKeyFingerprint)
      assert.strictEqual(ssh.accepted(), before)
      assert.strictEqual(echoConnections, connectionsBefore)
      yield* tunnels.closeAll
    })
  )

  it.effect("a bastion that is down is Unreachable, and retryable", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => Ports.freePort())
      const tunnels = SshTunnels.unsafeMake(egress)
      const error = yield* Effect.flip(
        tunnels.acquire("instance", configuration({ port }), credentials({ private_key: ssh.privateKey }))
      )
      assert.strictEqual(error._tag, "Unreachable")
      assert.isTrue(error._tag === "Unreachable" && error.retryable)
    })
  )

  it.effect("the egress policy applies to the bastion", () =>
    Effect.gen(function* () {
      const tunnels = SshTunnels.unsafeMake(EgressPolicy.make())
      const error = yield* Effect.flip(
        tunnels.acquire("instance", configuration(), credentials({ private_key: ssh.privateKey }))
      )
      assert.strictEqual(error._tag, "EgressDenied")
    })
  )

  it.effect("a key, a passphrase or a password the bastion refuses is AuthFailed", () =>
    Effect.gen(function* () {
      const tunnels = SshTunnels.unsafeMake(egress)
      for (const input of [
        { private_key: ssh.otherPrivateKey },
        { private_key: ssh.encryptedPrivateKey, passphrase: "wrong" },
        { private_key: ssh.encryptedPrivateKey },
        { private_key: "not a key" },
        { password: "wrong password" }
      ]) {
        const error = yield* Effect.flip(
          tunnels.acquire(`instance-${input.toString()}`, configuration(), credentials(input))
        )
        assert.strictEqual(error._tag, "AuthFailed", JSON.stringify(Object.keys(input)))
        if (error._tag === "AuthFailed") {
          assert.strictEqual(error.kind, "invalid_credentials")
          assert.notInclude(error.detail, "wrong")
        }
      }
      yield* tunnels.closeAll
    })
  )

  it.effect("one SSH connection carries many streams of an instance", () =>
    Effect.gen(function* () {
      const before = ssh.accepted()
      const tunnels = SshTunnels.unsafeMake(egress)
      const secret = credentials({ private_key: ssh.privateKey })
      yield* Effect.forEach(
        Array.from({ length: 8 }, (_, i) => i),
        (i) =>
          Effect.gen(function* () {
            const tunnel = yield* tunnels.acquire("instance", configuration(), secret)
            const stream = yield* tunnel.forward("127.0.0.1", echoPort)
            assert.strictEqual(yield* roundTrip(stream, `message ${i}`), `message ${i}`)
            yield* closed(stream)
          }),
        { concurrency: 4 }
      )
      const tunnel = yield* tunnels.acquire("instance", configuration(), secret)
      assert.strictEqual(tunnel.connections(), 1)
      assert.strictEqual(ssh.accepted(), before + 1)
      assert.strictEqual(yield* tunnels.size, 1)
      yield* tunnels.closeAll
    })
  )

  it.effect("a credential decoded again with the same login keeps the tunnel and its SSH login", () =>
    Effect.gen(function* () {
      const tunnels = SshTunnels.unsafeMake(egress)
      // Each driver call decodes the credential anew: equal values, other Redacted objects.
      const first = yield* tunnels.acquire("instance", configuration(), credentials({ private_key: ssh.privateKey }))
      const again = yield* tunnels.acquire("instance", configuration(), credentials({ private_key: ssh.privateKey }))
      assert.strictEqual(again, first)
      assert.strictEqual(first.connections(), 1)
      // Another instance with the same bastion and login has a tunnel of its own.
      const other = yield* tunnels.acquire("other", configuration(), credentials({ private_key: ssh.privateKey }))
      assert.notStrictEqual(other, first)
      assert.strictEqual(yield* tunnels.size, 2)
      yield* tunnels.closeAll
    })
  )

  it.effect("a new credential version replaces the tunnel; the old one closes once its streams end", () =>
    Effect.gen(function* () {
      const tunnels = SshTunnels.unsafeMake(egress)
      const first = yield* tunnels.acquire("instance", configuration(), credentials({ private_key: ssh.privateKey }))
      const open = yield* first.forward("127.0.0.1", echoPort)
      const second = yield* tunnels.acquire("instance", configuration(), credentials({ password: ssh.password }))
      assert.notStrictEqual(second, first)
      assert.strictEqual(yield* tunnels.size, 1)
      // The stream opened before the replacement still works, and the old tunnel forwards nothing new.
      assert.strictEqual(yield* roundTrip(open, "still here"), "still here")
      const refused = yield* Effect.flip(first.forward("127.0.0.1", echoPort))
      assert.strictEqual(refused._tag, "Unreachable")
      yield* closed(open)
      assert.strictEqual(first.openStreams(), 0)
      const stream = yield* second.forward("127.0.0.1", echoPort)
      assert.strictEqual(yield* roundTrip(stream, "pong"), "pong")
      yield* closed(stream)
      yield* tunnels.closeAll
    })
  )

  it.live("an SSH connection idle for idleMillis closes, and the next stream connects again", () =>
    Effect.gen(function* () {
      const tunnels = SshTunnels.unsafeMake(egress, { idleMillis: 1 })
      const tunnel = yield* tunnels.acquire("instance", configuration(), credentials({ private_key: ssh.privateKey }))
      const ended = ssh.disconnected()
      const stream = yield* tunnel.forward("127.0.0.1", echoPort)
      assert.strictEqual(yield* roundTrip(stream, "one"), "one")
      yield* closed(stream)
      // A latch on the server's log: the login ended.
      yield* Effect.suspend(() => (ssh.disconnected() > ended ? Effect.void : Effect.fail("open"))).pipe(
        Effect.retry(Schedule.spaced("20 millis"))
      )
      const again = yield* tunnel.forward("127.0.0.1", echoPort)
      assert.strictEqual(yield* roundTrip(again, "two"), "two")
      yield* closed(again)
      assert.strictEqual(tunnel.connections(), 2)
      yield* tunnels.closeAll
    })
  )

  it.effect("a socket-like stream opens its channel on connect, as pg's stream option expects", () =>
    Effect.gen(function* () {
      const tunnels = SshTunnels.unsafeMake(egress)
      const tunnel = yield* tunnels.acquire("instance", configuration(), credentials({ private_key: ssh.privateKey }))
      const socket = tunnel.socket("127.0.0.1", echoPort)
      yield* Effect.async<void>((resume) => {
        socket.once("connect", () => resume(Effect.void))
        socket.setNoDelay().connect(echoPort, "ignored")
      })
      assert.strictEqual(yield* roundTrip(socket, "hello"), "hello")
      yield* closed(socket)
      const refused = tunnel.socket("127.0.0.1", yield* Effect.promise(() => Ports.freePort()))
      const error = yield* Effect.async<Error>((resume) => {
        refused.once("error", (cause) => resume(Effect.succeed(cause)))
        refused.connect()
      })
      assert.strictEqual((error as { _tag?: string })._tag, "Unreachable")
      yield* tunnels.closeAll
    })
  )

  it.effect("a TLS handshake refused over a socket-like stream reports its error before the stream's close", () =>
    Effect.gen(function* () {
      // A TLS server whose self-signed certificate the client does not trust.
      const material = Tls.selfSignedCertificate()
      const server = createTlsServer({ key: material.key, cert: material.cert }, (socket) => socket.end())
      server.on("tlsClientError", () => {})
      yield* Effect.async<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      })
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const tunnels = SshTunnels.unsafeMake(egress)
      const tunnel = yield* tunnels.acquire("instance", configuration(), credentials({ private_key: ssh.privateKey }))
      const socket = tunnel.socket("127.0.0.1", port)
      // pg and mysql2 listen to both: the first one decides what the driver reports.
      const events = yield* Effect.async<ReadonlyArray<string>>((resume) => {
        const seen: Array<string> = []
        const record = (event: string) => {
          seen.push(event)
          if (seen.length === 2) resume(Effect.succeed(seen))
        }
        socket.once("close", () => record("close"))
        socket.once("connect", () => {
          const secure = connectTls({ socket, servername: "localhost", rejectUnauthorized: true })
          secure.once("error", (error: Error & { code?: string }) => record(`tls error ${error.code}`))
        })
        socket.connect()
      })
      assert.deepStrictEqual(events, ["tls error DEPTH_ZERO_SELF_SIGNED_CERT", "close"])
      yield* tunnels.closeAll
      yield* Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
    })
  )

  it("the configuration requires a SHA256 host key fingerprint and the credential a key or a password", () => {
    const decode = Schema.decodeUnknownEither(TunnelConfiguration.TunnelConfiguration)
    assert.isTrue(decode({ host: "bastion", username: "u" })._tag === "Left")
    assert.isTrue(decode({ host: "bastion", username: "u", host_key_fingerprint: "MD5:aa:bb" })._tag === "Left")
    const decoded = decode({ host: "bastion", username: "u", host_key_fingerprint: `SHA256:${"b".repeat(43)}` })
    assert.isTrue(decoded._tag === "Right" && decoded.right.port === 22)
    const secret = Schema.decodeUnknownEither(TunnelConfiguration.TunnelCredentials)
    assert.isTrue(secret({})._tag === "Left")
    const password = secret({ password: "p" })
    assert.isTrue(password._tag === "Right" && Redacted.value(password.right.password!) === "p")
  })
})
