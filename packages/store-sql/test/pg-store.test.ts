/**
 * What only a real PostgreSQL shows: start-up checks, concurrent starts, the append-only trigger,
 * configuration from the environment, and the server going away and coming back.
 */
import { assert, describe, it } from "@effect/vitest"
import { AuditLog, InstanceRepository, RefreshLock } from "@patchbay/core"
import { Ports, PostgresServer } from "@patchbay/testing"
import {
  ConfigError,
  ConfigProvider,
  Context,
  Deferred,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  Schedule
} from "effect"
import pg from "pg"
import { Migrations, SqlStore } from "../src/index.js"
import { auditEvent, makeInstance, newOrg } from "./fixtures.js"
import { freshDatabase, query } from "./support.js"

const build = (options: SqlStore.PgOptions) => Layer.build(SqlStore.layerPg(options))
const at = (url: string) => Redacted.make(url)

describe("layerPg start-up", () => {
  it.scopedLive("fails with a typed message on a database that is not migrated when migrations are disabled", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase()
      const error = yield* Effect.flip(build({ url: at(db.url), migrate: false }))
      assert.strictEqual(error._tag, "SchemaVersionMismatch")
      if (error._tag === "SchemaVersionMismatch") {
        assert.strictEqual(error.found, 0)
        assert.strictEqual(error.expected, Migrations.latest)
        assert.include(error.message, "not migrated")
      }
    })
  )

  it.scopedLive("migrates once under concurrent starts, then refuses a database migrated by a newer Patchbay", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase()
      yield* Effect.all(
        Array.from({ length: 4 }, () => build({ url: at(db.url), maxConnections: 2 })),
        { concurrency: "unbounded" }
      )
      const applied = yield* query(db.url, "SELECT migration_id FROM patchbay.migrations ORDER BY 1")
      assert.deepStrictEqual(
        applied.rows.map((row) => row.migration_id),
        Array.from({ length: Migrations.latest }, (_, i) => i + 1)
      )
      yield* build({ url: at(db.url), migrate: false })

      yield* query(db.url, "INSERT INTO patchbay.migrations (migration_id, name) VALUES ($1, 'from_the_future')", [
        Migrations.latest + 1
      ])
      for (const migrate of [true, false]) {
        const error = yield* Effect.flip(build({ url: at(db.url), migrate }))
        assert.strictEqual(error._tag, "SchemaVersionMismatch")
        if (error._tag === "SchemaVersionMismatch") {
          assert.strictEqual(error.found, Migrations.latest + 1)
          assert.include(error.message, "newer Patchbay")
        }
      }
    })
  )

  it.scopedLive("reads PATCHBAY_DATABASE_URL, and says when it is missing", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase()
      const context = yield* Layer.build(SqlStore.layerPg()).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PATCHBAY_DATABASE_URL", db.url]])))
      )
      const orgId = yield* newOrg
      assert.deepStrictEqual(
        yield* Context.get(context, InstanceRepository.InstanceRepository).list(orgId, { limit: 1 }),
        []
      )
      const missing = yield* Effect.flip(
        Layer.build(SqlStore.layerPg()).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      )
      assert.isTrue(ConfigError.isConfigError(missing))
    })
  )

  it.scopedLive("fails with StorageError, quoting no password, when the server cannot be reached", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => Ports.freePort())
      const error = yield* Effect.flip(
        build({ url: at(`postgres://patchbay:s3cret-pw@127.0.0.1:${port}/patchbay`), connectTimeout: "2 seconds" })
      )
      assert.strictEqual(error._tag, "StorageError")
      assert.notInclude(error.message, "s3cret-pw")
    })
  )
})

describe("PostgreSQL schema", () => {
  it.scopedLive("refuses UPDATE and DELETE of audit rows, even in hand-written SQL", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase()
      const context = yield* build({ url: at(db.url) })
      const log = Context.get(context, AuditLog.AuditLog)
      const orgId = yield* newOrg
      const event = yield* auditEvent(orgId)
      yield* log.append(event)
      for (const sql of ["UPDATE patchbay.audit_events SET action = 'forged'", "DELETE FROM patchbay.audit_events"]) {
        const error = yield* Effect.flip(query(db.url, sql))
        assert.include(error.message, "append-only")
      }
      assert.deepStrictEqual(yield* log.list(orgId, { limit: 10 }), [event])
    })
  )
})

// Stopping a server needs one this run owns; an external PATCHBAY_TEST_DATABASE_URL cannot be stopped.
const ownServer = !process.env.PATCHBAY_TEST_DATABASE_URL && PostgresServer.debianBinDir() !== undefined

describe("faults", () => {
  it.scopedLive("a lock wait past lockTimeout fails with StorageError naming the bound; the lock goes on", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase()
      const context = yield* build({ url: at(db.url), lockTimeout: "300 millis" })
      const lock = Context.get(context, RefreshLock.RefreshLock)
      const inside = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      // One holder keeps the advisory lock; a second caller waits on it past its lock timeout.
      const holder = yield* Effect.fork(
        lock.withLock(
          "credential-deadline",
          Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(release))
        )
      )
      yield* Deferred.await(inside)
      const waited = yield* Effect.flip(lock.withLock("credential-deadline", Effect.void))
      assert.strictEqual(waited._tag, "StorageError")
      assert.include(waited.message, "not free within 300ms (lockTimeout)")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(yield* lock.withLock("credential-deadline", Effect.succeed("free")), "free")
    })
  )

  it.scopedLive(
    "a statement past operationTimeout fails with StorageError naming the bound, is cancelled on the server, and the store goes on",
    () =>
      Effect.gen(function* () {
        const db = yield* freshDatabase()
        const context = yield* build({ url: at(db.url), operationTimeout: "300 millis", applicationName: "deadline" })
        const repo = Context.get(context, InstanceRepository.InstanceRepository)
        const orgId = yield* newOrg
        const instance = yield* makeInstance(orgId)
        yield* repo.insert(instance)
        // Another session locks the table, so the store's read waits on the server past its bound.
        const blocker = yield* Effect.acquireRelease(
          Effect.promise(async () => {
            const client = new pg.Client({ connectionString: db.url })
            await client.connect()
            await client.query("BEGIN")
            await client.query("LOCK TABLE patchbay.instances IN ACCESS EXCLUSIVE MODE")
            return client
          }),
          (client) => Effect.promise(() => client.end())
        )
        const error = yield* Effect.flip(repo.get(orgId, instance.id))
        assert.strictEqual(error._tag, "StorageError")
        assert.include(error.message, "did not answer within 300ms (operationTimeout)")
        // The statement was cancelled on the server, not left waiting on the lock.
        const waiting = query(
          db.url,
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'deadline' AND wait_event_type = 'Lock'"
        ).pipe(
          Effect.flatMap((result) =>
            result.rows[0]?.n === 0 ? Effect.void : Effect.fail(new Error("the statement still waits"))
          )
        )
        yield* waiting.pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 40 }))
        yield* Effect.promise(() => blocker.query("ROLLBACK"))
        assert.deepStrictEqual(yield* repo.get(orgId, instance.id), Option.some(instance))
      })
  )

  it.scopedLive(
    "a busy pool gives a retryable 'pool exhausted' StorageError naming poolTimeout, not a connect failure",
    () =>
      Effect.gen(function* () {
        const db = yield* freshDatabase()
        const context = yield* build({ url: at(db.url), maxConnections: 1, poolTimeout: "200 millis" })
        const repo = Context.get(context, InstanceRepository.InstanceRepository)
        const lock = Context.get(context, RefreshLock.RefreshLock)
        const orgId = yield* newOrg
        const instance = yield* makeInstance(orgId)
        yield* repo.insert(instance)
        // The pool's only connection is held by a transaction until `release`.
        const inside = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(
          lock.withLock("busy", Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(release)))
        )
        yield* Deferred.await(inside)
        const error = yield* Effect.flip(repo.get(orgId, instance.id))
        assert.strictEqual(error._tag, "StorageError")
        assert.isTrue(error.retryable)
        assert.include(error.message, "pool exhausted")
        assert.include(error.message, "within 200ms (poolTimeout)")
        assert.notInclude(error.message, "Failed to acquire connection")
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        // Free again: the store goes on.
        assert.deepStrictEqual(yield* repo.get(orgId, instance.id), Option.some(instance))
      })
  )

  it.scopedLive.skipIf(!ownServer)(
    "the server going away mid-operation gives StorageError in time, not a defect or a hang; the store recovers",
    () =>
      Effect.gen(function* () {
        const server = yield* Effect.acquireRelease(
          Effect.promise(() => PostgresServer.start()),
          (s) => Effect.promise(() => s.dispose())
        )
        const context = yield* build({
          url: at(server.url),
          operationTimeout: "3 seconds",
          connectTimeout: "2 seconds"
        })
        const repo = Context.get(context, InstanceRepository.InstanceRepository)
        const lock = Context.get(context, RefreshLock.RefreshLock)
        const orgId = yield* newOrg
        const instance = yield* makeInstance(orgId)
        yield* repo.insert(instance)

        // A refresh holds the advisory lock in an open transaction when the server stops.
        // It holds the lock until the server has stopped (latches, not a timed hold).
        const inside = yield* Deferred.make<void>()
        const stopped = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(
          Effect.exit(
            lock.withLock("credential-1", Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(stopped)))
          )
        )
        yield* Deferred.await(inside)
        yield* Effect.promise(() => server.stop())
        yield* Deferred.succeed(stopped, undefined)
        const held = yield* Fiber.join(holder)
        assert.isTrue(Exit.isFailure(held))
        if (Exit.isFailure(held)) {
          const failure = held.cause._tag === "Fail" ? held.cause.error : undefined
          assert.strictEqual(failure?._tag, "StorageError", String(held.cause))
        }

        // While it is away: typed failures, quickly.
        const started = Date.now()
        const operations: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }>> = [
          repo.get(orgId, instance.id),
          repo.list(orgId, { limit: 5 }),
          lock.withLock("credential-2", Effect.void)
        ]
        for (const operation of operations) {
          const exit = yield* Effect.exit(operation)
          assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag === "StorageError")
        }
        assert.isBelow(Date.now() - started, 8_000)

        // Back again: the pool reconnects.
        yield* Effect.promise(() => server.restart())
        const found = yield* repo
          .get(orgId, instance.id)
          .pipe(Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 25 }))
        assert.deepStrictEqual(found, Option.some(instance))
        assert.strictEqual(yield* lock.withLock("credential-1", Effect.succeed("refreshed")), "refreshed")
      }),
    60_000
  )
})
