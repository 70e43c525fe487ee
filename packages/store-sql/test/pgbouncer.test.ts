/**
 * `layerPg` behind a real PgBouncer in transaction mode (Debian's `pgbouncer`, when installed): every
 * statement or transaction may land on another server connection, so the store must neither
 * rely on named prepared statements nor on session state.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { CredentialRepository, CredentialScope, InstanceRepository, RefreshLock } from "@patchbay/core"
import { Ports } from "@patchbay/testing"
import { Context, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { SqlStore } from "../src/index.js"
import { makeInstance, newCredential, newOrg, scope } from "./fixtures.js"
import { freshDatabase, query, serverUrl } from "./support.js"

const binary = "/usr/sbin/pgbouncer"
const isRoot = typeof process.getuid === "function" && process.getuid() === 0

/** PgBouncer in transaction mode in front of the run's server, on a free port; its URL for `database`. */
const pgBouncer = Effect.acquireRelease(
  Effect.promise(async () => {
    const server = new URL(serverUrl())
    const dir = mkdtempSync(join(tmpdir(), "patchbay-pgbouncer-"))
    const port = await Ports.freePort()
    const user = decodeURIComponent(server.username)
    writeFileSync(join(dir, "userlist.txt"), `"${user}" "${decodeURIComponent(server.password)}"\n`)
    writeFileSync(
      join(dir, "pgbouncer.ini"),
      [
        "[databases]",
        `* = host=${server.hostname} port=${server.port || 5432}`,
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        `listen_port = ${port}`,
        "unix_socket_dir =",
        "auth_type = scram-sha-256",
        `auth_file = ${join(dir, "userlist.txt")}`,
        "pool_mode = transaction",
        // Fewer server connections than the store's pool (statements of one client share them), but
        // more than the concurrent lock holders: each holds one for its transaction while its write
        // needs another.
        "default_pool_size = 4",
        "max_client_conn = 100",
        "ignore_startup_parameters = extra_float_digits",
        `logfile = ${join(dir, "log")}`
      ].join("\n")
    )
    // PgBouncer refuses to run as root.
    let child: ChildProcess
    if (isRoot) {
      const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())
      for (const path of [dir, join(dir, "userlist.txt"), join(dir, "pgbouncer.ini")]) {
        chownSync(path, id("-u"), id("-g"))
      }
      child = spawn("runuser", ["-u", "postgres", "--", binary, join(dir, "pgbouncer.ini")], { stdio: "ignore" })
    } else {
      child = spawn(binary, [join(dir, "pgbouncer.ini")], { stdio: "ignore" })
    }
    const url = (database: string) => {
      const target = new URL(server.toString())
      target.port = String(port)
      target.pathname = `/${database}`
      return target.toString()
    }
    return { child, dir, url }
  }),
  ({ child, dir }) =>
    Effect.promise(async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.kill("SIGTERM")
      await exited
      rmSync(dir, { recursive: true, force: true })
    })
)

describe.skipIf(!existsSync(binary))("layerPg behind PgBouncer (transaction mode)", () => {
  it.scopedLive(
    "migrates, writes under the advisory lock and reads concurrently, with statements spread over server connections",
    () =>
      Effect.gen(function* () {
        const db = yield* freshDatabase()
        const bouncer = yield* pgBouncer
        const url = bouncer.url(db.name)
        // Ready once it answers.
        yield* query(url, "SELECT 1").pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }))
        const context = yield* Layer.build(SqlStore.layerPg({ url: Redacted.make(url), maxConnections: 8 }))
        const instances = Context.get(context, InstanceRepository.InstanceRepository)
        const credentials = Context.get(context, CredentialRepository.CredentialRepository)
        const lock = Context.get(context, RefreshLock.RefreshLock)
        const orgId = yield* newOrg
        const org = scope("organization", orgId)
        const stored = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, i) => i),
          (i) =>
            Effect.gen(function* () {
              const instance = yield* makeInstance(orgId)
              yield* instances.insert(instance)
              // A transaction: BEGIN, the advisory lock, the insert and COMMIT on one server connection.
              const credential = yield* lock.withLock(
                `bouncer-${i}`,
                Effect.flatMap(newCredential(instance, org, { seed: i }), credentials.insert)
              )
              return { instance, credential }
            }),
          { concurrency: 3 }
        )
        const reads = yield* Effect.forEach(
          Array.from({ length: 120 }, (_, i) => stored[i % stored.length]!),
          ({ instance, credential }) =>
            Effect.map(
              credentials.newestValid(orgId, instance.id, [CredentialScope.CredentialScope.make(org)], new Date()),
              (found) => Option.isSome(found) && found.value.metadata.id === credential.metadata.id
            ),
          { concurrency: 16 }
        )
        assert.strictEqual(reads.filter(Boolean).length, reads.length)
      }),
    60_000
  )
})
