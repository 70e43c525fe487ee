import { assert, describe, it } from "@effect/vitest"
import { type ConnectorDriver, Database } from "@patchbay/core"
import { Effect, Schedule } from "effect"
import { afterAll, beforeAll } from "vitest"
import type * as PostgresConnector from "../src/PostgresConnector.js"
import { admin, adminQuery, contextFor, createFixture, type Fixture, makeDriver } from "./helpers.js"

let db: Fixture
/** A second login on the fixture's database: a person's own credential. */
const person = { name: "pb_pgpool_person", password: "pw-person-secret" }

const version = (id: string, scope = "organization:0190a000-0000-7000-8000-00000000000a") =>
  ({ id, version: 1, scope }) satisfies ConnectorDriver.CredentialVersion

const query = new Database.QueryRequest({
  sql: "SELECT current_user AS who, pg_backend_pid() AS pid",
  params: [],
  maxRows: 10,
  timeoutMillis: 10_000
})

const who = (driver: PostgresConnector.PostgresDriver, context: PostgresConnector.Context) =>
  Effect.map(driver.query(context, query), (result) => ({
    who: String(result.rows[0]?.who),
    pid: Number(result.rows[0]?.pid)
  }))

/** The server connections of `user` once they are `expected` (a bounded poll: pools close their clients asynchronously). */
const connectionsOnceThey = (user: string, expected: number) =>
  Effect.promise(() => adminQuery("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1", [user])).pipe(
    Effect.map((rows) => Number(rows[0]?.n)),
    Effect.filterOrFail(
      (n) => n === expected,
      (n) => new Error(`${user} has ${n} connections, expected ${expected}`)
    ),
    Effect.retry(Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(600)))
  )

describe("PostgreSQL pools per instance, credential scope and version", () => {
  beforeAll(async () => {
    db = await createFixture("pb_pgpool")
    await admin([
      `DROP ROLE IF EXISTS ${person.name}`,
      `CREATE ROLE ${person.name} LOGIN PASSWORD '${person.password}'`,
      `GRANT CONNECT ON DATABASE ${db.name} TO ${person.name}`
    ])
  })
  afterAll(async () => {
    await db.drop()
    await admin([`DROP ROLE IF EXISTS ${person.name}`])
  })

  it.effect("an instance used with two scopes' credentials keeps a pool per scope, bounded", () =>
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
      const pids = { organization: new Set<number>(), own: new Set<number>() }
      for (let round = 0; round < 3; round++) {
        const a = yield* who(driver, organization)
        assert.strictEqual(a.who, db.name)
        pids.organization.add(a.pid)
        const b = yield* who(driver, own)
        assert.strictEqual(b.who, person.name)
        pids.own.add(b.pid)
      }
      // Each scope kept its pool and its one server connection: no pool replaced the other.
      assert.strictEqual(pids.organization.size, 1)
      assert.strictEqual(pids.own.size, 1)
      assert.strictEqual(yield* pools.size, 2)

      // More scopes than an instance keeps pools for: the least recently used are closed.
      for (let n = 0; n < 4; n++) {
        const scope = `user:0190b000-0000-7000-8000-00000000001${n}`
        yield* who(driver, { ...own, credential: version(`credential-${n}`, scope) })
      }
      assert.strictEqual(yield* pools.size, 4)
      yield* pools.closeAll
    })
  )

  it.effect("a new credential version replaces its scope's pool, with the same values too", () =>
    Effect.gen(function* () {
      const { pools, driver } = makeDriver()
      const first = contextFor(db, { username: person.name, password: person.password, credential: version("v1") })
      const before = yield* who(driver, first)
      assert.strictEqual((yield* who(driver, first)).pid, before.pid)
      const after = yield* who(driver, { ...first, credential: { ...first.credential, id: "v2", version: 2 } })
      assert.notStrictEqual(after.pid, before.pid)
      assert.strictEqual(yield* pools.size, 1)
      // The old pool was closed: only the new pool's connection is left.
      assert.strictEqual(yield* connectionsOnceThey(person.name, 1), 1)
      yield* pools.closeAll
    })
  )
})
