import { assert, describe, it } from "@effect/vitest"
import { Database, EgressPolicy } from "@patchbay/core"
import { MariaDbServer, SshServer, Tls } from "@patchbay/testing"
import { Effect, Schema } from "effect"
import mysql from "mysql2/promise"
import { afterAll, beforeAll } from "vitest"
import * as MysqlConnector from "../src/MysqlConnector.js"
import * as MysqlDescriptor from "../src/MysqlDescriptor.js"
import * as MysqlPools from "../src/MysqlPools.js"
import { contextFor, type Fixture, missing as mariaDbMissing } from "./helpers.js"

// TLS end to end with a MariaDB of its own (a throwaway CA, a certificate naming `localhost`
// only), reached through Debian's sshd as the bastion.
const sshMissing = !SshServer.available()
if (sshMissing && process.env.CI === undefined) {
  console.warn(
    "\n*** SKIPPING the MySQL TLS-through-a-tunnel tests: /usr/sbin/sshd is missing or we are not root ***\n"
  )
}
const skip = mariaDbMissing || (sshMissing && process.env.CI === undefined)

let server: MariaDbServer.MariaDbServer
let ssh: SshServer.SshServer
let material: Tls.TestCertificates
const db: Fixture = { name: "pb_tunnel_tls", password: "pw-pb_tunnel_tls-secret", drop: async () => {} }

beforeAll(async () => {
  if (skip) return
  ssh = await SshServer.start()
  material = Tls.testCertificates({ clientUser: "pb_cert" })
  server = await MariaDbServer.start({
    args: [
      `--ssl-ca=${material.path("ca.crt")}`,
      `--ssl-cert=${material.path("server.crt")}`,
      `--ssl-key=${material.path("server.key")}`
    ]
  })
  const admin = await mysql.createConnection({ uri: server.url })
  try {
    for (const statement of [
      `CREATE DATABASE ${db.name}`,
      // The account logs in over TLS only: a downgrade to plain text could not log in either.
      `CREATE USER '${db.name}'@'%' IDENTIFIED BY '${db.password}' REQUIRE SSL`,
      `GRANT SELECT ON ${db.name}.* TO '${db.name}'@'%'`
    ]) {
      await admin.query(statement)
    }
  } finally {
    await admin.end()
  }
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
  const pools = MysqlPools.unsafeMake(egress, { connectTimeoutMillis: 10_000 })
  return { pools, driver: MysqlConnector.make(pools) }
}

/** A context reaching the TLS server through the bastion, logging in to it with the SSH key. */
const tunnelled = (configuration: Record<string, unknown>): MysqlConnector.Context => ({
  ...contextFor(db),
  configuration: Schema.decodeUnknownSync(MysqlDescriptor.Configuration)({
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
  credentials: Schema.decodeUnknownSync(MysqlDescriptor.Credentials)({
    username: db.name,
    password: db.password,
    ssh_credentials: { private_key: ssh.privateKey }
  })
})

/** The TLS cipher the server sees on the query's connection ("" for plain text), through a tunnel logged in for it. */
const probe = (context: MysqlConnector.Context) =>
  Effect.gen(function* () {
    const { pools, driver } = makeDriver()
    const before = ssh.accepted()
    const result = yield* driver
      .query(
        context,
        new Database.QueryRequest({
          sql: "SELECT VARIABLE_VALUE AS cipher FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'",
          params: [],
          maxRows: 10,
          timeoutMillis: 10_000
        })
      )
      .pipe(Effect.ensuring(pools.closeAll))
    assert.strictEqual(ssh.accepted(), before + 1, "one SSH login to the bastion")
    return (result.rows[0] as { cipher: string }).cipher
  })

/** The connection test's answer (a fresh connection through a tunnel of its own). */
const tested = (context: MysqlConnector.Context) =>
  Effect.gen(function* () {
    const { pools, driver } = makeDriver()
    return yield* driver.test(context).pipe(Effect.ensuring(pools.closeAll))
  })

describe.skipIf(skip)("TLS to MariaDB through an SSH bastion (Debian's sshd, a throwaway CA)", () => {
  it.effect("require encrypts inside the tunnel", () =>
    Effect.gen(function* () {
      assert.notStrictEqual(yield* probe(tunnelled({ ssl_mode: "require" })), "")
    })
  )

  it.effect("verify-ca and verify-full with the server's CA work, verify-full against the configured host name", () =>
    Effect.gen(function* () {
      assert.notStrictEqual(yield* probe(tunnelled({ ssl_mode: "verify-ca", ssl_root_cert: material.ca })), "")
      const full = tunnelled({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" })
      assert.notStrictEqual(yield* probe(full), "")
      yield* tested(full)
    })
  )

  it.effect("a certificate from another CA is RequestRejected, never a downgrade", () =>
    Effect.gen(function* () {
      for (const ssl_mode of ["verify-ca", "verify-full"]) {
        const otherCa = tunnelled({ ssl_mode, ssl_root_cert: material.otherCa })
        const error = yield* Effect.flip(probe(otherCa))
        assert.strictEqual(error._tag, "RequestRejected", ssl_mode)
        assert.include(error.message, "TLS refused")
        const test = yield* Effect.flip(tested(otherCa))
        assert.strictEqual(test._tag, "RequestRejected", ssl_mode)
      }
    })
  )
})
