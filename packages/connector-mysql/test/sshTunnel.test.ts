import { assert, describe, it } from "@effect/vitest"
import { Database, EgressPolicy, FailureClassifier } from "@patchbay/core"
import { Ports, SshServer } from "@patchbay/testing"
import { Effect, Schedule, Schema, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as MysqlConnector from "../src/MysqlConnector.js"
import * as MysqlDescriptor from "../src/MysqlDescriptor.js"
import * as MysqlPools from "../src/MysqlPools.js"
import { contextFor, createFixture, type Fixture, missing as mariaDbMissing, serverPort } from "./helpers.js"

// The run's throwaway MariaDB, reached through Debian's sshd as the bastion.
const sshMissing = !SshServer.available()
if (sshMissing && process.env.CI === undefined) {
  console.warn("\n*** SKIPPING the MySQL SSH tunnel tests: /usr/sbin/sshd is missing or we are not root ***\n")
}
const skip = mariaDbMissing || (sshMissing && process.env.CI === undefined)

let ssh: SshServer.SshServer
let db: Fixture

beforeAll(async () => {
  if (skip) return
  ssh = await SshServer.start()
  db = await createFixture("pb_myssh")
})

afterAll(async () => {
  if (skip) return
  await db.drop()
  await ssh.dispose()
})

const loopback = EgressPolicy.make({ allowLoopback: true })

const makeDriver = (egress: EgressPolicy.EgressPolicyShape = loopback) => {
  const pools = MysqlPools.unsafeMake(egress)
  return { pools, driver: MysqlConnector.make(pools) }
}

/** A context whose database is reached through the bastion, with `login` as the tunnel's credential. */
const tunnelled = (
  login: Record<string, string> | undefined,
  tunnel: Record<string, unknown> = {}
): MysqlConnector.Context => ({
  ...contextFor(db),
  configuration: Schema.decodeUnknownSync(MysqlDescriptor.Configuration)({
    host: "127.0.0.1",
    port: serverPort,
    database: db.name,
    ssl_mode: "disable",
    ssh_tunnel: {
      host: "127.0.0.1",
      port: ssh.port,
      username: ssh.username,
      host_key_fingerprint: ssh.hostKeyFingerprint,
      ...tunnel
    }
  }),
  credentials: Schema.decodeUnknownSync(MysqlDescriptor.Credentials)({
    username: db.name,
    password: db.password,
    ...(login === undefined ? {} : { ssh_credentials: login })
  })
})

const request = new Database.QueryRequest({
  sql: "SELECT CURRENT_USER() AS who",
  params: [],
  maxRows: 10,
  timeoutMillis: 10_000
})

const whoAmI = (driver: MysqlConnector.MysqlDriver, context: MysqlConnector.Context) =>
  Effect.map(driver.query(context, request), (result) => result.rows[0]?.who)

/** The activity outcome of a driver failure for the context's instance. */
const outcomeOf = (context: MysqlConnector.Context, failure: FailureClassifier.Failure) =>
  FailureClassifier.classify(
    {
      id: context.instance.id,
      instanceName: context.instance.instanceName,
      connectorKey: "mysql",
      authType: "database_password"
    },
    failure
  )

/** Waits until sshd's log shows `count` logins still open and at least `accepted` so far (a latch on the peer's log). */
const openLogins = (count: number, accepted: number) =>
  Effect.suspend(() =>
    ssh.accepted() >= accepted && ssh.accepted() - ssh.disconnected() === count ? Effect.void : Effect.fail("not yet")
  ).pipe(Effect.retry(Schedule.spaced("20 millis")))

describe.skipIf(skip)("MySQL through an SSH bastion (Debian's sshd)", () => {
  it.live("key auth reaches MariaDB: Run Query and a streaming query share one SSH login", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const before = ssh.accepted()
      const context = tunnelled({ private_key: ssh.privateKey })
      assert.strictEqual(yield* whoAmI(driver, context), `${db.name}@%`)
      assert.strictEqual(yield* whoAmI(driver, context), `${db.name}@%`)
      const rows = yield* driver
        .streamQuery(
          context,
          Database.StreamQueryRequest.make({
            sql: "SELECT seq FROM seq_1_to_2500",
            params: [],
            batchSize: 1_000,
            timeoutMillis: 10_000
          })
        )
        .pipe(Stream.runFold(0, (n, batch) => n + batch.rows.length))
      assert.strictEqual(rows, 2_500)
      assert.strictEqual(ssh.accepted(), before + 1)
      const byPassword = tunnelled({ password: ssh.password })
      assert.strictEqual(yield* whoAmI(driver, byPassword), `${db.name}@%`)
      assert.strictEqual(ssh.accepted(), before + 2)
      yield* pools.closeAll
      yield* openLogins(0, before + 2)
    })
  )

  it.live("the connection test logs in to the bastion anew and leaves nothing open", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const before = ssh.accepted()
      const message = yield* driver.test(tunnelled({ private_key: ssh.privateKey }))
      assert.include(message, "MariaDB")
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
      assert.strictEqual(outcomeOf(context, error)._tag, "TransientFailure")
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
        assert.strictEqual(outcomeOf(context, error)._tag, "ReconnectRequired")
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
})
