import { assert, describe, it } from "@effect/vitest"
import { type Database, EgressPolicy, FailureClassifier } from "@patchbay/core"
import { Ports, SshServer } from "@patchbay/testing"
import { Effect, Schedule, Schema } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as PostgresConnector from "../src/PostgresConnector.js"
import * as PostgresDescriptor from "../src/PostgresDescriptor.js"
import * as PostgresPools from "../src/PostgresPools.js"
import { contextFor, createFixture, type Fixture, serverPort } from "./helpers.js"

// The throwaway PostgreSQL of the run, reached through Debian's sshd as the bastion.
const missing = !SshServer.available()
if (missing && process.env.CI === undefined) {
  console.warn("\n*** SKIPPING the PostgreSQL SSH tunnel tests: /usr/sbin/sshd is missing or we are not root ***\n")
}
const skip = missing && process.env.CI === undefined

let ssh: SshServer.SshServer
let db: Fixture

beforeAll(async () => {
  if (skip) return
  ssh = await SshServer.start()
  db = await createFixture("pb_ssh")
})

afterAll(async () => {
  if (skip) return
  await db.drop()
  await ssh.dispose()
})

const loopback = EgressPolicy.make({ allowLoopback: true })

const makeDriver = (egress: EgressPolicy.EgressPolicyShape = loopback, options: PostgresPools.PoolOptions = {}) => {
  const pools = PostgresPools.unsafeMake(egress, options)
  return { pools, driver: PostgresConnector.make(pools) }
}

/** A context whose database is reached through the bastion, with `ssh` as the tunnel's login. */
const tunnelled = (
  ssh_credentials: Record<string, string> | undefined,
  tunnel: Record<string, unknown> = {},
  instanceId?: string
): PostgresConnector.Context => {
  const base = contextFor(db, instanceId === undefined ? {} : { instanceId })
  const ssh_tunnel = {
    host: "127.0.0.1",
    port: ssh.port,
    username: ssh.username,
    host_key_fingerprint: ssh.hostKeyFingerprint,
    ...tunnel
  }
  return {
    ...base,
    configuration: Schema.decodeUnknownSync(PostgresDescriptor.Configuration)({
      host: "127.0.0.1",
      port: serverPort,
      database: db.name,
      ssl_mode: "disable",
      ssh_tunnel
    }),
    credentials: Schema.decodeUnknownSync(PostgresDescriptor.Credentials)({
      username: db.name,
      password: db.password,
      ...(ssh_credentials === undefined ? {} : { ssh_credentials })
    })
  }
}

const request: Database.QueryRequest = {
  sql: "SELECT current_user AS who, inet_client_addr() IS NOT NULL AS tcp",
  params: [],
  maxRows: 10,
  timeoutMillis: 10_000
}

const whoAmI = (driver: PostgresConnector.PostgresDriver, context: PostgresConnector.Context) =>
  Effect.map(driver.query(context, request), (result) => result.rows[0] as { who: string; tcp: boolean })

/** The activity outcome of a driver failure for the context's instance. */
const outcomeOf = (context: PostgresConnector.Context, failure: FailureClassifier.Failure) =>
  FailureClassifier.classify(
    {
      id: context.instance.id,
      instanceName: context.instance.instanceName,
      connectorKey: "postgres",
      authType: "database_password"
    },
    failure
  )

/**
 * Waits until sshd's log shows `count` logins still open, and at least `accepted` logins so far (a
 * latch on the peer's log; the logins of earlier tests end too).
 */
const openLogins = (count: number, accepted: number) =>
  Effect.suspend(() =>
    ssh.accepted() >= accepted && ssh.accepted() - ssh.disconnected() === count ? Effect.void : Effect.fail("not yet")
  ).pipe(Effect.retry(Schedule.spaced("20 millis")))

describe.skipIf(skip)("PostgreSQL through an SSH bastion (Debian's sshd)", () => {
  it.effect("Run Query works with key auth and with password auth, one SSH login per tunnel", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const before = ssh.accepted()
      const byKey = tunnelled({ private_key: ssh.privateKey })
      assert.deepStrictEqual(yield* whoAmI(driver, byKey), { who: db.name, tcp: true })
      assert.deepStrictEqual(yield* whoAmI(driver, byKey), { who: db.name, tcp: true })
      assert.strictEqual(ssh.accepted(), before + 1)
      const byPassword = tunnelled({ password: ssh.password })
      assert.deepStrictEqual(yield* whoAmI(driver, byPassword), { who: db.name, tcp: true })
      const encrypted = tunnelled({ private_key: ssh.encryptedPrivateKey, passphrase: ssh.passphrase })
      assert.deepStrictEqual(yield* whoAmI(driver, encrypted), { who: db.name, tcp: true })
      assert.strictEqual(ssh.accepted(), before + 3)
      yield* pools.closeAll
    })
  )

  it.live("the connection test logs in to the bastion anew and leaves nothing open", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const before = ssh.accepted()
      const message = yield* driver.test(tunnelled({ private_key: ssh.privateKey }))
      assert.include(message, "PostgreSQL")
      assert.strictEqual(ssh.accepted(), before + 1)
      yield* openLogins(0, before + 1)
      assert.strictEqual(yield* pools.size, 0)
      yield* pools.closeAll
    })
  )

  it.effect("a bastion whose host key is not the expected one is refused before any login", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const before = ssh.accepted()
      const context = tunnelled({ private_key: ssh.privateKey }, { host_key_fingerprint: `SHA256:${"A".repeat(43)}` })
      const error = yield* Effect.flip(driver.query(context, request))
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, ssh.hostKeyFingerprint)
      const tested = yield* Effect.flip(driver.test(context))
      assert.strictEqual(tested._tag, "RequestRejected")
      assert.strictEqual(ssh.accepted(), before)
      assert.strictEqual(outcomeOf(context, error)._tag, "ActivityRejected")
      yield* pools.closeAll
    })
  )

  it.effect("a bastion that is down is Unreachable: a TransientFailure", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const port = yield* Effect.promise(() => Ports.freePort())
      const context = tunnelled({ private_key: ssh.privateKey }, { port })
      const error = yield* Effect.flip(driver.query(context, request))
      assert.strictEqual(error._tag, "Unreachable")
      const outcome = outcomeOf(context, error)
      assert.strictEqual(outcome._tag, "TransientFailure")
      yield* pools.closeAll
    })
  )

  it.effect("a key or password the bastion refuses, or no SSH login at all, is ReconnectRequired", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      for (const login of [
        { private_key: ssh.otherPrivateKey },
        { private_key: ssh.encryptedPrivateKey, passphrase: "wrong-passphrase" },
        { password: "wrong-password" },
        undefined
      ]) {
        const context = tunnelled(login)
        const error = yield* Effect.flip(driver.query(context, request))
        assert.strictEqual(error._tag, "AuthFailed", JSON.stringify(login === undefined ? [] : Object.keys(login)))
        assert.notInclude(error.message, "wrong-")
        const outcome = outcomeOf(context, error)
        assert.strictEqual(outcome._tag, "ReconnectRequired")
      }
      yield* pools.closeAll
    })
  )

  it.effect("the egress policy applies to the bastion", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver(EgressPolicy.make())
      const before = ssh.accepted()
      const error = yield* Effect.flip(driver.query(tunnelled({ private_key: ssh.privateKey }), request))
      assert.strictEqual(error._tag, "EgressDenied")
      assert.strictEqual(ssh.accepted(), before)
      yield* pools.closeAll
    })
  )

  it.live("a new credential version replaces the tunnel and its pool; the old tunnel closes", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const instanceId = "0190c000-0000-7000-8000-0000000055aa"
      const before = ssh.accepted()
      yield* whoAmI(driver, tunnelled({ private_key: ssh.privateKey }, {}, instanceId))
      assert.strictEqual(ssh.accepted(), before + 1)
      // The same instance with its next credential version (another login).
      yield* whoAmI(driver, tunnelled({ password: ssh.password }, {}, instanceId))
      assert.strictEqual(ssh.accepted(), before + 2)
      assert.strictEqual(yield* pools.size, 1)
      // The old pool ends, its connection through the old tunnel closes, and so does the old SSH
      // login: the new one alone stays open.
      yield* openLogins(1, before + 2)
      // The new tunnel carries on.
      yield* whoAmI(driver, tunnelled({ password: ssh.password }, {}, instanceId))
      assert.strictEqual(ssh.accepted(), before + 2)
      yield* pools.closeAll
    })
  )

  it.live("an idle tunnel closes, and the next query logs in again", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver(loopback, { idleTimeoutMillis: 1, tunnelIdleMillis: 1 })
      const context = tunnelled({ private_key: ssh.privateKey })
      const before = ssh.accepted()
      yield* whoAmI(driver, context)
      yield* openLogins(0, before + 1)
      assert.deepStrictEqual(yield* whoAmI(driver, context), { who: db.name, tcp: true })
      assert.strictEqual(ssh.accepted(), before + 2)
      yield* pools.closeAll
    })
  )
})
