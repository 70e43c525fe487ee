import { assert, describe, it } from "@effect/vitest"
import { ConnectorDriver, ConnectorInstance, ConnectorRegistry, EgressPolicy, Ids } from "@patchbay/core"
import { Effect, Exit, Fiber, Layer, Option, Redacted, Schedule } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as PostgresConnector from "../src/PostgresConnector.js"
import * as PostgresDescriptor from "../src/PostgresDescriptor.js"
import * as PostgresPools from "../src/PostgresPools.js"
import { admin, adminQuery, contextFor, createFixture, type Fixture, makeDriver } from "./helpers.js"

let db: Fixture
const { pools, driver } = makeDriver()

const marker = "pb_interrupt_marker"

/** Polls the server until `probe` finds what it waits for: a latch on the server's state, not a sleep. */
const until = <A>(probe: Effect.Effect<Option.Option<A>>) =>
  probe.pipe(
    Effect.flatMap((found) => (Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail("not yet"))),
    Effect.retry(Schedule.spaced("20 millis"))
  )

/** The server process running a statement that contains `text`, if any. */
const runningWith = (text: string) =>
  Effect.promise(() =>
    adminQuery(
      "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
      [`%${text}%`]
    )
  ).pipe(Effect.map((rows) => Option.fromNullable(rows[0]?.pid as number | undefined)))

/** How many server processes match `where`. */
const backends = (where: string) =>
  Effect.promise(() => adminQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${where}`)).pipe(
    Effect.map((rows) => rows[0]!.n as number)
  )

beforeAll(async () => {
  db = await createFixture("pb_conn")
})
afterAll(async () => {
  await Effect.runPromise(pools.closeAll)
  await db.drop()
})

describe("descriptor", () => {
  it("declares the postgres connector", () => {
    const d = PostgresDescriptor.descriptor
    assert.strictEqual(d.key, "postgres")
    assert.deepStrictEqual(d.accountFields, ["host", "port", "database", "username"])
    assert.deepStrictEqual(d.secretFields, ["password", "ssl_key", "ssh_credentials", "private_key", "passphrase"])
    assert.isTrue(d.supportsSchemaDiscovery)
    assert.deepStrictEqual(d.authProfiles, ["database_password"])
  })

  it.effect("validates configuration with defaults and refuses a password in it", () =>
    Effect.gen(function* () {
      const connector = ConnectorDriver.make(PostgresDescriptor.descriptor, driver)
      const stored = yield* ConnectorRegistry.validateConfiguration(connector.descriptor, {
        host: " db.internal ",
        database: "analytics"
      })
      assert.deepStrictEqual(stored, {
        host: "db.internal",
        port: 5432,
        database: "analytics",
        ssl_mode: "prefer",
        read_only: false,
        allow_side_effect_functions: false
      })
      const misplaced = yield* Effect.flip(
        ConnectorRegistry.validateConfiguration(connector.descriptor, { host: "h", database: "d", password: "x" })
      )
      assert.include(misplaced.detail, "password is a secret")
      const badPort = yield* Effect.flip(
        ConnectorRegistry.validateConfiguration(connector.descriptor, { host: "h", database: "d", port: 70000 })
      )
      assert.include(badPort.detail, "port must be between 1 and 65535")
    })
  )

  it.effect("refuses a host carrying a user or a password, naming the field and never the values", () =>
    Effect.gen(function* () {
      const connector = ConnectorDriver.make(PostgresDescriptor.descriptor, driver)
      for (const host of ["reporting:hunter2@db.internal", "reporting@db.internal", " admin:hunter2@10.0.0.5 "]) {
        const error = yield* Effect.flip(
          ConnectorRegistry.validateConfiguration(connector.descriptor, { host, database: "analytics" })
        )
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.detail, "host must not carry a user or a password (user:password@host)")
        assert.notInclude(error.detail, "hunter2")
        assert.notInclude(error.detail, "reporting")
      }
      const tunnel = yield* Effect.flip(
        ConnectorRegistry.validateConfiguration(connector.descriptor, {
          host: "db.internal",
          database: "analytics",
          ssh_tunnel: { host: "jump:hunter2@bastion", username: "u", host_key_fingerprint: `SHA256:${"a".repeat(43)}` }
        })
      )
      assert.strictEqual(tunnel._tag, "InvalidConfiguration")
      assert.include(tunnel.detail, "ssh_tunnel.host must not carry a user or a password")
      assert.notInclude(tunnel.detail, "hunter2")
    })
  )
})

describe("test and health check", () => {
  it.effect("test connects and reports the server version", () =>
    Effect.gen(function* () {
      const version = yield* driver.test(contextFor(db))
      assert.match(version, /^PostgreSQL 1\d/)
    })
  )

  it.effect("a wrong password is AuthFailed(invalid_credentials) and never shows the password", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(driver.test(contextFor(db, { password: "not-the-password" })))
      assert.strictEqual(error._tag, "AuthFailed")
      if (error._tag === "AuthFailed") {
        assert.strictEqual(error.kind, "invalid_credentials")
        assert.include(error.detail, "28P01")
      }
      assert.notInclude(JSON.stringify(error), "not-the-password")
      assert.notInclude(error.message, "not-the-password")
    })
  )

  it.effect("a closed port is Unreachable", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(driver.test(contextFor(db, { configuration: { port: 1 } })))
      assert.strictEqual(error._tag, "Unreachable")
    })
  )

  it.effect("a metadata address is denied by the egress policy before connecting", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(driver.test(contextFor(db, { configuration: { host: "169.254.169.254" } })))
      assert.strictEqual(error._tag, "EgressDenied")
      const viaPool = yield* Effect.flip(
        driver.healthCheck(contextFor(db, { configuration: { host: "169.254.169.254" } }))
      )
      assert.strictEqual(viaPool._tag, "EgressDenied")
    })
  )

  it.effect("loopback is denied unless the policy allows it", () =>
    Effect.gen(function* () {
      const strict = PostgresConnector.make(PostgresPools.unsafeMake(EgressPolicy.make()))
      const error = yield* Effect.flip(strict.test(contextFor(db)))
      assert.strictEqual(error._tag, "EgressDenied")
    })
  )

  it.effect("an unknown database is RequestRejected", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(driver.test(contextFor(db, { configuration: { database: "pb_nope" } })))
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, "3D000")
    })
  )

  it.effect("ssl_mode prefer falls back to plain on a server without TLS; require is refused", () =>
    Effect.gen(function* () {
      const version = yield* driver.test(contextFor(db, { configuration: { ssl_mode: "prefer" } }))
      assert.match(version, /^PostgreSQL/)
      yield* driver.healthCheck(contextFor(db, { configuration: { ssl_mode: "prefer" } }))
      const error = yield* Effect.flip(driver.test(contextFor(db, { configuration: { ssl_mode: "require" } })))
      assert.strictEqual(error._tag, "RequestRejected")
      assert.include(error.message, "SSL")
    })
  )

  it.effect("health check is one round trip on a pooled connection", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      const before = yield* pools.size
      yield* driver.healthCheck(context)
      yield* driver.healthCheck(context)
      assert.strictEqual(yield* pools.size, before + 1)
    })
  )
})

describe("pools", () => {
  it.effect("a new credential replaces the instance's pool; the old password stops working", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() => createFixture("pb_rotate"))
      const rotate = { name: "pb_rotate", password: "pw-pb_rotate-secret" } as Fixture
      const id = "0190c000-0000-7000-8000-0000000000ff"
      const old = contextFor(rotate, { instanceId: id })
      yield* driver.healthCheck(old)
      yield* Effect.promise(() => admin(["ALTER ROLE pb_rotate PASSWORD 'rotated-secret'"]))
      const fresh = contextFor(rotate, { instanceId: id, password: "rotated-secret" })
      const size = yield* pools.size
      yield* driver.healthCheck(fresh)
      assert.strictEqual(yield* pools.size, size, "the instance keeps one pool")
      const error = yield* Effect.flip(driver.test(old))
      assert.strictEqual(error._tag, "AuthFailed")
      yield* Effect.promise(() => admin(["DROP DATABASE pb_rotate WITH (FORCE)", "DROP ROLE pb_rotate"]))
    })
  )

  it.live("an interrupted query is cancelled on the server, and its connection is destroyed", () =>
    Effect.gen(function* () {
      const context = contextFor(db)
      const fiber = yield* Effect.fork(
        driver.query(context, {
          sql: `SELECT pg_sleep(30) AS ${marker}`,
          params: [],
          maxRows: 10,
          timeoutMillis: 60_000
        })
      )
      // The statement reached the server: a backend is running it.
      const pid = yield* until(runningWith(marker))
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      // pg_sleep does not notice a closed socket: only a cancel on the server ends it before 30 s.
      yield* until(
        Effect.map(runningWith(marker), (found) => (Option.isNone(found) ? Option.some(true) : Option.none()))
      )
      // The connection was destroyed, not returned: its server process exits.
      yield* until(Effect.map(backends(`pid = ${pid}`), (n) => (n === 0 ? Option.some(true) : Option.none())))
      const next = yield* driver.query(context, {
        sql: "SELECT pg_backend_pid() AS pid",
        params: [],
        maxRows: 10,
        timeoutMillis: 1000
      })
      assert.notStrictEqual(next.rows[0]!.pid, pid)
    })
  )

  it.effect("the registry builds the connector on the pools the host provides", () =>
    Effect.gen(function* () {
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      const connector = yield* registry.get("postgres")
      const instance = contextFor(db).instance
      const context = yield* ConnectorRegistry.driverContext(
        connector,
        ConnectorInstance.ConnectorInstance.make({ ...instance, id: Ids.InstanceId.make(instance.id) }),
        { username: db.name, password: db.password },
        { id: "credential-1", version: 1, scope: "organization:test" }
      )
      assert.isTrue(Redacted.isRedacted((context.credentials as { password: unknown }).password))
      const version = yield* connector.driver.test(context)
      assert.match(version, /^PostgreSQL/)
      const pooled = yield* PostgresPools.PostgresPools
      yield* connector.driver.healthCheck(context)
      assert.strictEqual(yield* pooled.size, 1)
    }).pipe(
      Effect.provide(
        ConnectorRegistry.layer([PostgresConnector.fromPools]).pipe(
          Layer.provideMerge(PostgresConnector.layer()),
          Layer.provideMerge(EgressPolicy.layer({ allowLoopback: true }))
        )
      )
    )
  )

  it.live("the connector's own pools are closed with the registry", () =>
    Effect.gen(function* () {
      const owned = yield* Effect.promise(() => createFixture("pb_owned"))
      const registry = ConnectorRegistry.layer([PostgresConnector.connector]).pipe(
        Layer.provide(EgressPolicy.layer({ allowLoopback: true }))
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const connector = yield* Effect.flatMap(ConnectorRegistry.ConnectorRegistry, (r) => r.get("postgres"))
          yield* connector.driver.healthCheck(contextFor(owned))
          assert.strictEqual(yield* backends("usename = 'pb_owned'"), 1)
        }).pipe(Effect.provide(registry))
      )
      yield* until(Effect.map(backends("usename = 'pb_owned'"), (n) => (n === 0 ? Option.some(true) : Option.none())))
      yield* Effect.promise(() => owned.drop())
    })
  )

  it.effect("the pools layer closes its pools when released", () =>
    Effect.gen(function* () {
      const closed = yield* Effect.scoped(
        Effect.gen(function* () {
          const p = yield* PostgresPools.make()
          yield* PostgresConnector.make(p).healthCheck(contextFor(db))
          assert.strictEqual(yield* p.size, 1)
          return p
        })
      ).pipe(Effect.provide(EgressPolicy.layer({ allowLoopback: true })))
      assert.strictEqual(yield* closed.size, 0)
    })
  )
})
