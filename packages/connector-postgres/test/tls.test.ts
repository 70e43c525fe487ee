import { readFileSync, writeFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { EgressPolicy } from "@patchbay/core"
import { PostgresServer, Tls } from "@patchbay/testing"
import { Effect, Either, Redacted, Schedule, Schema } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import * as PostgresConnector from "../src/PostgresConnector.js"
import * as PostgresDescriptor from "../src/PostgresDescriptor.js"
import * as PostgresPools from "../src/PostgresPools.js"
import { contextFor, type Fixture } from "./helpers.js"

// A PostgreSQL of its own with TLS on, a throwaway CA, and a role that logs in by client certificate.
const debian = PostgresServer.debianBinDir() !== undefined && process.getuid?.() === 0
if (!debian && process.env.CI === undefined) {
  console.warn("\n*** SKIPPING the TLS tests: Debian's PostgreSQL binaries are missing or we are not root ***\n")
}

const certUser = "pb_certuser"
let server: PostgresServer.PostgresServer
let material: Tls.TestCertificates
let db: Fixture

const superuser = () => {
  const client = new pg.Client({ connectionString: server.url })
  return client.connect().then(() => client)
}

/** Polls until a TLS connection is accepted: the reload that turned TLS on has been applied. */
const untilTls = () =>
  Effect.tryPromise(async () => {
    const client = new pg.Client({ connectionString: server.url, ssl: { rejectUnauthorized: false } })
    await client.connect()
    await client.end()
  }).pipe(Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.intersect(Schedule.recurs(200)))))

beforeAll(async () => {
  if (!debian && process.env.CI === undefined) return
  server = await PostgresServer.start()
  material = Tls.testCertificates({ clientUser: certUser, owner: "postgres" })
  const client = await superuser()
  try {
    const name = "pb_tls"
    const password = "pw-pb_tls-secret"
    await client.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`)
    await client.query(`CREATE DATABASE ${name} OWNER ${name}`)
    await client.query(`CREATE ROLE ${certUser} LOGIN`)
    await client.query(`GRANT CONNECT ON DATABASE ${name} TO ${certUser}`)
    db = { name, password, sql: () => Promise.reject(new Error("unused")), drop: async () => {} }
    const hba = (await client.query("SHOW hba_file")).rows[0].hba_file as string
    writeFileSync(hba, `hostssl all ${certUser} 127.0.0.1/32 cert\n${readFileSync(hba, "utf8")}`)
    await client.query(`ALTER SYSTEM SET ssl_cert_file = '${material.path("server.crt")}'`)
    await client.query(`ALTER SYSTEM SET ssl_key_file = '${material.path("server.key")}'`)
    await client.query(`ALTER SYSTEM SET ssl_ca_file = '${material.path("ca.crt")}'`)
    await client.query("ALTER SYSTEM SET ssl = on")
    await client.query("SELECT pg_reload_conf()")
  } finally {
    await client.end()
  }
  await Effect.runPromise(untilTls())
})

afterAll(async () => {
  if (!debian && process.env.CI === undefined) return
  await server.dispose()
  material?.dispose()
})

/** A driver whose egress policy resolves every name to 127.0.0.1, where the server listens. */
const makeDriver = () => {
  const egress = EgressPolicy.make({ allowLoopback: true, resolve: () => Effect.succeed(["127.0.0.1"]) })
  const pools = PostgresPools.unsafeMake(egress, { connectTimeoutMillis: 10_000 })
  return { pools, driver: PostgresConnector.make(pools) }
}

const context = (
  configuration: Record<string, unknown>,
  credentials: { username?: string; password?: string } = {}
) => {
  const base = contextFor(db, {
    configuration: { port: server.port, ...configuration },
    ...(credentials.username !== undefined ? { username: credentials.username } : {}),
    ...(credentials.password !== undefined ? { password: credentials.password } : {})
  })
  return base
}

/** Whether the server sees the connection of a query as TLS, and the user it runs as. */
const probe = (ctx: PostgresConnector.Context) =>
  Effect.gen(function* () {
    const { pools, driver } = makeDriver()
    const result = yield* driver
      .query(ctx, {
        sql: "SELECT ssl, current_user AS who FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        params: [],
        maxRows: 10,
        timeoutMillis: 10_000
      })
      .pipe(Effect.ensuring(pools.closeAll))
    return result.rows[0] as { ssl: boolean; who: string }
  })

describe.skipIf(!debian && process.env.CI === undefined)("TLS to a real PostgreSQL with a throwaway CA", () => {
  it.effect("require encrypts without verifying the certificate", () =>
    Effect.gen(function* () {
      const row = yield* probe(context({ ssl_mode: "require" }))
      assert.strictEqual(row.ssl, true)
    })
  )

  it.effect("verify-ca accepts the server's CA and refuses another, never downgrading", () =>
    Effect.gen(function* () {
      const row = yield* probe(context({ ssl_mode: "verify-ca", ssl_root_cert: material.ca, host: "127.0.0.1" }))
      assert.strictEqual(row.ssl, true)
      const error = yield* Effect.flip(probe(context({ ssl_mode: "verify-ca", ssl_root_cert: material.otherCa })))
      assert.strictEqual(error._tag, "RequestRejected")
      const system = yield* Effect.flip(probe(context({ ssl_mode: "verify-ca" })))
      assert.strictEqual(system._tag, "RequestRejected")
    })
  )

  it.effect("verify-full also checks the host name against the certificate", () =>
    Effect.gen(function* () {
      const row = yield* probe(context({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" }))
      assert.strictEqual(row.ssl, true)
      const error = yield* Effect.flip(
        probe(context({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "127.0.0.1" }))
      )
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, "TLS certificate rejected")
      const other = yield* Effect.flip(
        probe(context({ ssl_mode: "verify-full", ssl_root_cert: material.otherCa, host: "localhost" }))
      )
      assert.strictEqual(other._tag, "RequestRejected")
    })
  )

  it.effect("a client certificate in the credential logs in a certificate-authenticated role", () =>
    Effect.gen(function* () {
      const base = context(
        { ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" },
        { username: certUser, password: "not-used" }
      )
      const withCert = {
        ...base,
        credentials: { ...base.credentials, ssl_cert: material.clientCert, ssl_key: Redacted.make(material.clientKey) }
      }
      const row = yield* probe(withCert)
      assert.deepStrictEqual(row, { ssl: true, who: certUser })
      const without = yield* Effect.flip(probe(base))
      assert.strictEqual(without._tag, "AuthFailed")
    })
  )

  it.effect("a certificate-only credential (no password) logs in; a role that needs a password gets AuthFailed", () =>
    Effect.gen(function* () {
      const base = context({ ssl_mode: "verify-full", ssl_root_cert: material.ca, host: "localhost" })
      const certOnly: PostgresConnector.Context = {
        ...base,
        credentials: { username: certUser, ssl_cert: material.clientCert, ssl_key: Redacted.make(material.clientKey) }
      }
      assert.deepStrictEqual(yield* probe(certOnly), { ssl: true, who: certUser })
      const { pools, driver } = makeDriver()
      const message = yield* driver.test(certOnly).pipe(Effect.ensuring(pools.closeAll))
      assert.include(message, `role ${certUser}`)
      // A role the server authenticates by password, with none in the credential: nothing is sent.
      const error = yield* Effect.flip(probe({ ...base, credentials: { username: db.name } }))
      assert.strictEqual(error._tag, "AuthFailed")
      assert.include(error.message, "asked for a password and the credential has none")
      const decoded = Schema.decodeUnknownEither(PostgresDescriptor.Credentials)({
        username: certUser,
        ssl_cert: material.clientCert,
        ssl_key: material.clientKey
      })
      assert.isTrue(Either.isRight(decoded))
    })
  )
})
