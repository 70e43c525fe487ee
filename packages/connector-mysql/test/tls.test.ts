import { assert, describe, it } from "@effect/vitest"
import { Database, EgressPolicy } from "@patchbay/core"
import { MariaDbServer, Tls } from "@patchbay/testing"
import { Effect, Either, Redacted, Schema } from "effect"
import mysql from "mysql2/promise"
import { afterAll, beforeAll } from "vitest"
import * as MysqlConnector from "../src/MysqlConnector.js"
import * as MysqlDescriptor from "../src/MysqlDescriptor.js"
import * as MysqlPools from "../src/MysqlPools.js"
import { contextFor, type Fixture, missing } from "./helpers.js"

// A MariaDB of its own with TLS on and a throwaway CA; the run's shared server has no TLS.

let server: MariaDbServer.MariaDbServer
let material: Tls.TestCertificates
const db: Fixture = { name: "pb_tls", password: "pw-pb_tls-secret", drop: async () => {} }
const certUser = { name: "pb_cert", password: "pw-pb_cert-secret" }
/** An account with no password that logs in by its certificate's subject alone. */
const certOnly = "pb_certonly"

beforeAll(async () => {
  if (missing) return
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
      `CREATE USER '${db.name}'@'%' IDENTIFIED BY '${db.password}'`,
      `GRANT ALL PRIVILEGES ON ${db.name}.* TO '${db.name}'@'%'`,
      `CREATE USER '${certUser.name}'@'%' IDENTIFIED BY '${certUser.password}' REQUIRE X509`,
      `GRANT SELECT ON ${db.name}.* TO '${certUser.name}'@'%'`,
      `CREATE USER '${certOnly}'@'%' REQUIRE SUBJECT '/CN=pb_cert'`,
      `GRANT SELECT ON ${db.name}.* TO '${certOnly}'@'%'`
    ]) {
      await admin.query(statement)
    }
  } finally {
    await admin.end()
  }
}, 120_000)

afterAll(async () => {
  if (missing) return
  await server?.dispose()
  material?.dispose()
})

/** A driver whose egress policy resolves every name to 127.0.0.1, where the servers listen. */
const makeDriver = () => {
  const egress = EgressPolicy.make({ allowLoopback: true, resolve: () => Effect.succeed(["127.0.0.1"]) })
  const pools = MysqlPools.unsafeMake(egress, { connectTimeoutMillis: 10_000 })
  return { pools, driver: MysqlConnector.make(pools) }
}

const context = (
  configuration: Record<string, unknown>,
  account: { readonly username: string; readonly password: string } = { username: db.name, password: db.password }
) => contextFor(db, { configuration: { port: server.port, ...configuration }, ...account })

/** The TLS cipher the server sees on the query's connection ("" for plain text), and the account. */
const probe = (ctx: MysqlConnector.Context) =>
  Effect.gen(function* () {
    const { pools, driver } = makeDriver()
    const result = yield* driver
      .query(
        ctx,
        new Database.QueryRequest({
          sql: "SELECT VARIABLE_VALUE AS cipher, CURRENT_USER() AS who FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'",
          params: [],
          maxRows: 10,
          timeoutMillis: 10_000
        })
      )
      .pipe(Effect.ensuring(pools.closeAll))
    return result.rows[0] as { cipher: string; who: string }
  })

describe.skipIf(missing)("TLS to a real MariaDB with a throwaway CA", () => {
  it.effect("require encrypts without verifying the certificate", () =>
    Effect.gen(function* () {
      const row = yield* probe(context({ ssl_mode: "require" }))
      assert.notStrictEqual(row.cipher, "")
      assert.strictEqual(row.who, `${db.name}@%`)
    })
  )

  it.effect("require never falls back to plain text: a server without TLS is refused", () =>
    Effect.gen(function* () {
      const plain = contextFor(db, { configuration: { ssl_mode: "require" } })
      const error = yield* Effect.flip(probe(plain))
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, "offers no TLS")
    })
  )

  it.effect("verify-ca accepts the server's CA and refuses another or the system CAs", () =>
    Effect.gen(function* () {
      const row = yield* probe(context({ ssl_mode: "verify-ca", ssl_root_cert: material.ca, host: "127.0.0.1" }))
      assert.notStrictEqual(row.cipher, "")
      const other = yield* Effect.flip(probe(context({ ssl_mode: "verify-ca", ssl_root_cert: material.otherCa })))
      assert.strictEqual(other._tag, "RequestRejected")
      const system = yield* Effect.flip(probe(context({ ssl_mode: "verify-ca" })))
      assert.strictEqual(system._tag, "RequestRejected")
    })
  )

  it.effect("verify-full also checks the configured host name against the certificate", () =>
    Effect.gen(function* () {
      const row = yield* probe(context({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" }))
      assert.notStrictEqual(row.cipher, "")
      // The egress policy sends this name to 127.0.0.1 too: the server's certificate does not name it.
      const wrongName = yield* Effect.flip(
        probe(context({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "db.example.test" }))
      )
      assert.strictEqual(wrongName._tag, "RequestRejected")
      assert.include(wrongName.message, "TLS refused")
      // An address cannot be checked against the certificate by mysql2: refused as configuration.
      const address = Schema.decodeUnknownEither(MysqlDescriptor.Configuration)({
        host: "127.0.0.1",
        database: db.name,
        ssl_mode: "verify-full"
      })
      assert.isTrue(Either.isLeft(address))
      if (Either.isLeft(address)) assert.include(address.left.message, "verify-full needs host to be the host name")
      const other = yield* Effect.flip(
        probe(context({ ssl_mode: "verify-full", ssl_root_cert: material.otherCa, host: "localhost" }))
      )
      assert.strictEqual(other._tag, "RequestRejected")
    })
  )

  it.effect("a client certificate in the credential logs in a REQUIRE X509 account", () =>
    Effect.gen(function* () {
      const base = context(
        { ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" },
        { username: certUser.name, password: certUser.password }
      )
      const withCert = {
        ...base,
        credentials: { ...base.credentials, ssl_cert: material.clientCert, ssl_key: Redacted.make(material.clientKey) }
      }
      const row = yield* probe(withCert)
      assert.strictEqual(row.who, `${certUser.name}@%`)
      assert.notStrictEqual(row.cipher, "")
      const without = yield* Effect.flip(probe(base))
      assert.strictEqual(without._tag, "AuthFailed")
    })
  )

  it.effect("a credential with a certificate and no password logs in a certificate-only account", () =>
    Effect.gen(function* () {
      const base = context({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" })
      const credentials = Schema.decodeUnknownSync(MysqlDescriptor.Credentials)({
        username: certOnly,
        ssl_cert: material.clientCert,
        ssl_key: material.clientKey
      })
      const row = yield* probe({ ...base, credentials })
      assert.strictEqual(row.who, `${certOnly}@%`)
      // The same credential without its certificate is refused by the server.
      const plain = Schema.decodeUnknownSync(MysqlDescriptor.Credentials)({ username: certOnly })
      const refused = yield* Effect.flip(probe({ ...base, credentials: plain }))
      assert.strictEqual(refused._tag, "AuthFailed")
      // A password-protected account is not opened without its password, certificate or not.
      const noPassword = Schema.decodeUnknownSync(MysqlDescriptor.Credentials)({
        username: certUser.name,
        ssl_cert: material.clientCert,
        ssl_key: material.clientKey
      })
      const denied = yield* Effect.flip(probe({ ...base, credentials: noPassword }))
      assert.strictEqual(denied._tag, "AuthFailed")
    })
  )
})
