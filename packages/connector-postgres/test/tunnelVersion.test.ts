import { assert, describe, it } from "@effect/vitest"
import { Database, EgressPolicy } from "@patchbay/core"
import { SshServer } from "@patchbay/testing"
import { Effect, Schedule, Schema } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as PostgresConnector from "../src/PostgresConnector.js"
import * as PostgresDescriptor from "../src/PostgresDescriptor.js"
import * as PostgresPools from "../src/PostgresPools.js"
import { contextFor, createFixture, type Fixture, serverPort } from "./helpers.js"

// The throwaway PostgreSQL of the run, reached through Debian's sshd as the bastion.
const missing = !SshServer.available()
if (missing && process.env.CI === undefined) {
  console.warn("\n*** SKIPPING the PostgreSQL tunnel version tests: /usr/sbin/sshd is missing or we are not root ***\n")
}
const skip = missing && process.env.CI === undefined

let ssh: SshServer.SshServer
let db: Fixture

beforeAll(async () => {
  if (skip) return
  ssh = await SshServer.start()
  db = await createFixture("pb_sshversion")
})

afterAll(async () => {
  if (skip) return
  await db.drop()
  await ssh.dispose()
})

/** A context reaching the database through the bastion with the same key, from credential version `id`. */
const tunnelled = (
  base: PostgresConnector.Context,
  id: string,
  scope = base.credential.scope
): PostgresConnector.Context => ({
  ...base,
  credential: { id, version: 1, scope },
  configuration: Schema.decodeUnknownSync(PostgresDescriptor.Configuration)({
    host: "127.0.0.1",
    port: serverPort,
    database: db.name,
    ssl_mode: "disable",
    ssh_tunnel: {
      host: "127.0.0.1",
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
})

const request = new Database.QueryRequest({
  sql: "SELECT current_user AS who",
  params: [],
  maxRows: 10,
  timeoutMillis: 10_000
})

/** Waits until sshd's log shows `count` logins still open (a latch on the peer's log). */
const openLogins = (count: number) =>
  Effect.suspend(() => (ssh.accepted() - ssh.disconnected() === count ? Effect.void : Effect.fail("not yet"))).pipe(
    Effect.retry(Schedule.spaced("20 millis"))
  )

describe.skipIf(skip)("PostgreSQL SSH tunnels per credential version", () => {
  it.live("the same version reuses the tunnel; a new version with the same SSH login gets a new one", () =>
    Effect.gen(function* () {
      const pools = PostgresPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }))
      const driver = PostgresConnector.make(pools)
      const base = contextFor(db)
      const open = ssh.accepted() - ssh.disconnected()
      const before = ssh.accepted()
      for (let n = 0; n < 3; n++) {
        assert.strictEqual((yield* driver.query(tunnelled(base, "version-1"), request)).rows[0]?.who, db.name)
      }
      assert.strictEqual(ssh.accepted(), before + 1)

      assert.strictEqual((yield* driver.query(tunnelled(base, "version-2"), request)).rows[0]?.who, db.name)
      assert.strictEqual(ssh.accepted(), before + 2)
      assert.strictEqual(yield* pools.size, 1)
      // The old version's pool closed, and with it the old SSH login.
      yield* openLogins(open + 1)

      // Another scope's credential of the instance, same SSH login: a pool and a tunnel of its own.
      yield* driver.query(tunnelled(base, "version-9", "user:0190b000-0000-7000-8000-000000000001"), request)
      assert.strictEqual(ssh.accepted(), before + 3)
      yield* driver.query(tunnelled(base, "version-2"), request)
      assert.strictEqual(ssh.accepted(), before + 3)
      assert.strictEqual(yield* pools.size, 2)
      yield* pools.closeAll
      yield* openLogins(open)
    })
  )
})
