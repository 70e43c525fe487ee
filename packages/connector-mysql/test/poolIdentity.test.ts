import { assert, describe, it } from "@effect/vitest"
import { type ConnectorDriver, Database } from "@patchbay/core"
import { Deferred, Effect, Fiber, Schedule, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import type * as MysqlConnector from "../src/MysqlConnector.js"
import { admin, contextFor, createFixture, type Fixture, makeDriver, missing } from "./helpers.js"

let db: Fixture
/** A second account on the fixture's database: a person's own login. */
const person = { name: "pb_mypool_person", password: "pw-person-secret" }
/** An account with two passwords, one per instance (MariaDB tries each authentication in turn). */
const shared = { name: "pb_mypool_shared", passwords: ["pw-shared-one", "pw-shared-two"] }

const version = (id: string, scope = "organization:0190a000-0000-7000-8000-00000000000a") =>
  ({ id, version: 1, scope }) satisfies ConnectorDriver.CredentialVersion

const query = (sql: string) => new Database.QueryRequest({ sql, params: [], maxRows: 10, timeoutMillis: 10_000 })

/** The server connections of `user` now (a pool keeps its connections open between calls). */
const serverConnections = (user: string) =>
  Effect.promise(() => admin(["SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?"], [user])).pipe(
    Effect.map((rows) => Number(rows[0]?.n))
  )

/** `user`'s server connections once they are `expected` (a bounded poll of the server: its connections close asynchronously). */
const connectionsOnceThey = (user: string, expected: number) =>
  serverConnections(user).pipe(
    Effect.filterOrFail(
      (n) => n === expected,
      (n) => new Error(`${user} has ${n} connections, expected ${expected}`)
    ),
    Effect.retry(Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(600)))
  )

const who = (driver: MysqlConnector.MysqlDriver, context: MysqlConnector.Context) =>
  Effect.map(driver.query(context, query("SELECT CURRENT_USER() AS who, CONNECTION_ID() AS id")), (result) => ({
    who: String(result.rows[0]?.who),
    id: Number(result.rows[0]?.id)
  }))

describe.skipIf(missing)("MySQL pools per instance, credential scope and version", () => {
  beforeAll(async () => {
    db = await createFixture("pb_mypool")
    await admin([
      `DROP USER IF EXISTS '${person.name}'@'%'`,
      `CREATE USER '${person.name}'@'%' IDENTIFIED BY '${person.password}'`,
      `GRANT SELECT ON ${db.name}.* TO '${person.name}'@'%'`,
      `DROP USER IF EXISTS '${shared.name}'@'%'`,
      `CREATE USER '${shared.name}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${shared.passwords[0]}') OR mysql_native_password USING PASSWORD('${shared.passwords[1]}')`,
      `GRANT SELECT ON ${db.name}.* TO '${shared.name}'@'%'`
    ])
  })
  afterAll(async () => {
    await admin([`DROP USER IF EXISTS '${person.name}'@'%'`, `DROP USER IF EXISTS '${shared.name}'@'%'`])
    await db.drop()
  })

  it.effect("two instances with the same settings and other passwords keep a pool each", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const [one, two] = shared.passwords.map((password) =>
        contextFor(db, { username: shared.name, password, credential: version(`credential-${password}`) })
      )
      const seen = new Set<number>()
      for (let round = 0; round < 3; round++) {
        for (const context of [one!, two!]) {
          const { who: user, id } = yield* who(driver, context)
          assert.strictEqual(user, `${shared.name}@%`)
          seen.add(id)
        }
      }
      // One server connection per instance, reused every round: neither pool replaced the other.
      assert.strictEqual(seen.size, 2)
      assert.strictEqual(yield* pools.size, 2)
      assert.strictEqual(yield* serverConnections(shared.name), 2)
      yield* pools.closeAll
    })
  )

  it.effect("an instance used with two scopes' credentials keeps a pool per scope", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const organization = contextFor(db, { credential: version("credential-org") })
      const own = {
        ...contextFor(db, {
          username: person.name,
          password: person.password,
          credential: version("credential-own", "user:0190b000-0000-7000-8000-000000000001")
        }),
        instance: organization.instance
      }
      const seen = new Set<number>()
      for (let round = 0; round < 3; round++) {
        assert.strictEqual((yield* who(driver, organization)).who, `${db.name}@%`)
        const mine = yield* who(driver, own)
        assert.strictEqual(mine.who, `${person.name}@%`)
        seen.add(mine.id)
      }
      assert.strictEqual(seen.size, 1)
      assert.strictEqual(yield* pools.size, 2)
      assert.strictEqual(yield* serverConnections(person.name), 1)

      // More scopes than an instance keeps pools for: the least recently used ones are ended.
      for (let n = 0; n < 4; n++) {
        const scope = `user:0190b000-0000-7000-8000-00000000001${n}`
        yield* who(driver, { ...own, credential: version(`credential-${n}`, scope) })
      }
      assert.strictEqual(yield* pools.size, 4)
      yield* pools.closeAll
    })
  )

  it.effect("an instance whose configuration changes replaces its pool instead of adding one", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const context = contextFor(db, { credential: version("credential-settings") })
      yield* who(driver, context)
      for (const read_only of [true, false, true]) {
        const changed = {
          ...context,
          configuration: { ...context.configuration, read_only }
        }
        assert.strictEqual((yield* who(driver, changed)).who, `${db.name}@%`)
        assert.strictEqual(yield* pools.size, 1)
      }
      yield* pools.closeAll
    })
  )

  it.live("a stream running while a new credential version is used elsewhere reads all its rows", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      // The new version has another password (the account takes both), as a rotated credential would.
      const first = contextFor(db, {
        username: shared.name,
        password: shared.passwords[0],
        credential: version("credential-v1")
      })
      const second = {
        ...contextFor(db, { username: shared.name, password: shared.passwords[1] }),
        instance: first.instance,
        credential: { ...first.credential, id: "credential-v2", version: 2 }
      }
      const started = yield* Deferred.make<void>()
      const proceed = yield* Deferred.make<void>()
      const reader = yield* driver
        .streamQuery(
          first,
          Database.StreamQueryRequest.make({
            sql: "SELECT seq FROM seq_1_to_50000",
            params: [],
            batchSize: 1_000,
            timeoutMillis: 30_000
          })
        )
        .pipe(
          Stream.runFoldEffect(0, (rows, batch) =>
            Effect.as(
              rows === 0 ? Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(proceed)) : Effect.void,
              rows + batch.rows.length
            )
          ),
          Effect.fork
        )
      yield* Deferred.await(started)
      // The new version replaces the instance's pool while the stream still holds a connection of the old one.
      assert.strictEqual((yield* who(driver, second)).who, `${shared.name}@%`)
      assert.strictEqual(yield* pools.size, 1)
      assert.strictEqual(yield* connectionsOnceThey(shared.name, 2), 2)
      yield* Deferred.succeed(proceed, undefined)
      assert.strictEqual(yield* Fiber.join(reader), 50_000)
      // Once the stream gave its connection back, the old pool ended: only the new pool's connection is left.
      assert.strictEqual(yield* connectionsOnceThey(shared.name, 1), 1)
      yield* pools.closeAll
    })
  )
})
