import { readFileSync, writeFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { EgressPolicy } from "@patchbay/core"
import { PostgresServer, SshServer, Tls } from "@patchbay/testing"
import { Effect, Schedule, Schema } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import * as PostgresConnector from "../src/PostgresConnector.js"
import * as PostgresDescriptor from "../src/PostgresDescriptor.js"
import * as PostgresPools from "../src/PostgresPools.js"
import { contextFor, type Fixture } from "./helpers.js"

// TLS end to end with a PostgreSQL of its own (a throwaway CA, a certificate naming `localhost`
// only), reached through Debian's sshd as the bastion: the certificate is checked against the
// database's configured host name, not the address the bastion connects to, nor the bastion's name.
const available = PostgresServer.debianBinDir() !== undefined && SshServer.available()
if (!available && process.env.CI === undefined) {
  console.warn(
    "\n*** SKIPPING the PostgreSQL TLS-through-a-tunnel tests: Debian's PostgreSQL or sshd is missing, or we are not root ***\n"
  )
}
const skip = !available && process.env.CI === undefined

let server: PostgresServer.PostgresServer
let ssh: SshServer.SshServer
let material: Tls.TestCertificates
const db: Fixture = {
  name: "pb_tunnel_tls",
  password: "pw-pb_tunnel_tls-secret",
  sql: () => Promise.reject(new Error("unused")),
  drop: async () => {}
}

/** Polls until a TLS connection is accepted: the reload that turned TLS on has been applied. */
const untilTls = () =>
  Effect.tryPromise(async () => {
    const client = new pg.Client({ connectionString: server.url, ssl: { rejectUnauthorized: false } })
    await client.connect()
    await client.end()
  }).pipe(Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.intersect(Schedule.recurs(200)))))

beforeAll(async () => {
  if (skip) return
  ssh = await SshServer.start()
  server = await PostgresServer.start()
  material = Tls.testCertificates({ owner: "postgres" })
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  try {
    await client.query(`CREATE ROLE ${db.name} LOGIN PASSWORD '${db.password}'`)
    await client.query(`CREATE DATABASE ${db.name} OWNER ${db.name}`)
    // The role may log in over TLS only: a downgrade to plain text could not log in either.
    const hba = (await client.query("SHOW hba_file")).rows[0].hba_file as string
    writeFileSync(hba, `hostnossl all ${db.name} all reject\n${readFileSync(hba, "utf8")}`)
    await client.query(`ALTER SYSTEM SET ssl_cert_file = '${material.path("server.crt")}'`)
    await client.query(`ALTER SYSTEM SET ssl_key_file = '${material.path("server.key")}'`)
    await client.query("ALTER SYSTEM SET ssl = on")
    await client.query("SELECT pg_reload_conf()")
  } finally {
    await client.end()
  }
  await Effect.runPromise(untilTls())
}, 120_000)

afterAll(async () => {
  if (skip) return
  await server?.dispose()
  await ssh?.dispose()
  material?.dispose()
})

/**
 * A driver whose egress policy resolves every name to 127.0.0.1. It sees only the bastion's name
 * (`bastion.test`): the database's host is resolved by the bastion.
 */
const makeDriver = () => {
  const egress = EgressPolicy.make({ allowLoopback: true, resolve: () => Effect.succeed(["127.0.0.1"]) })
  const pools = PostgresPools.unsafeMake(egress, { connectTimeoutMillis: 10_000 })
  return { pools, driver: PostgresConnector.make(pools) }
}

/** A context reaching the TLS server at `host` through the bastion, logging in to it with the SSH key. */
const tunnelled = (configuration: Record<string, unknown>): PostgresConnector.Context => {
  const base = contextFor(db)
  return {
    ...base,
    configuration: Schema.decodeUnknownSync(PostgresDescriptor.Configuration)({
      host: "localhost",
      port: server.port,
      database: db.name,
      ...configuration,
      ssh_tunnel: {
        host: "bastion.test",
        port: ssh.port,
        username: ssh.username,
        host_key_fingerprint: ssh.hostKeyFingerprint
      }
    }),
    credentials: Schema.decodeUnknownSync(PostgresDescriptor.Credentials)({
      username: db.name,
      password: db.password,
      ssh_credentials: { private_key: ssh.privateKey }
    })
  }
}

/** Whether the server sees the query's connection as TLS, through a tunnel logged in for it. */
const probe = (context: PostgresConnector.Context) =>
  Effect.gen(function* () {
    const { pools, driver } = makeDriver()
    const before = ssh.accepted()
    const result = yield* driver
      .query(context, {
        sql: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        params: [],
        maxRows: 10,
        timeoutMillis: 10_000
      })
      .pipe(Effect.ensuring(pools.closeAll))
    assert.strictEqual(ssh.accepted(), before + 1, "one SSH login to the bastion")
    return (result.rows[0] as { ssl: boolean }).ssl
  })

/** The connection test's answer (a fresh connection through a tunnel of its own). */
const tested = (context: PostgresConnector.Context) =>
  Effect.gen(function* () {
    const { pools, driver } = makeDriver()
    return yield* driver.test(context).pipe(Effect.ensuring(pools.closeAll))
  })

describe.skipIf(skip)("TLS to PostgreSQL through an SSH bastion (Debian's sshd, a throwaway CA)", () => {
  it.effect("require encrypts inside the tunnel", () =>
    Effect.gen(function* () {
      assert.isTrue(yield* probe(tunnelled({ ssl_mode: "require" })))
      assert.include(yield* tested(tunnelled({ ssl_mode: "require" })), "PostgreSQL")
    })
  )

  it.effect("verify-full checks the certificate against the configured host name, not the bastion's", () =>
    Effect.gen(function* () {
      const verified = tunnelled({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" })
      assert.isTrue(yield* probe(verified))
      assert.include(yield* tested(verified), "PostgreSQL")
      // verify-ca checks the chain only: the address is accepted too.
      assert.isTrue(yield* probe(tunnelled({ ssl_mode: "verify-ca", ssl_root_cert: material.ca, host: "127.0.0.1" })))
    })
  )

  it.effect("a host name the certificate does not name is RequestRejected, never a downgrade", () =>
    Effect.gen(function* () {
      // The bastion reaches the same server at 127.0.0.1; the certificate names localhost only.
      const wrongName = tunnelled({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "127.0.0.1" })
      const error = yield* Effect.flip(probe(wrongName))
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, "TLS certificate rejected")
      const test = yield* Effect.flip(tested(wrongName))
      assert.strictEqual(test._tag, "RequestRejected")
    })
  )

  it.effect("a certificate from another CA is RequestRejected, never a downgrade", () =>
    Effect.gen(function* () {
      for (const ssl_mode of ["verify-full", "verify-ca"]) {
        const otherCa = tunnelled({ ssl_mode, ssl_root_cert: material.otherCa, host: "localhost" })
        const error = yield* Effect.flip(probe(otherCa))
        assert.strictEqual(error._tag, "RequestRejected", ssl_mode)
        assert.include(error.message, "TLS certificate rejected")
        const test = yield* Effect.flip(tested(otherCa))
        assert.strictEqual(test._tag, "RequestRejected", ssl_mode)
      }
      // No CA configured: the system's CAs do not know the throwaway one.
      const system = yield* Effect.flip(probe(tunnelled({ ssl_mode: "verify-full", host: "localhost" })))
      assert.strictEqual(system._tag, "RequestRejected")
    })
  )
})
