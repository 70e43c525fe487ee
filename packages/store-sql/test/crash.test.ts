/**
 * Crash safety under load: several processes create instances and store credentials on one real
 * PostgreSQL while the test restarts it with `pg_ctl restart -m immediate` (every server process
 * killed, WAL replayed). Afterwards every acknowledged write must be readable and audited, every
 * failed call must have left nothing behind (or, when the commit went through but its answer was
 * lost, the whole unit), and no instance may hold credential state without its credential.
 *
 * Most of its cost is starting the writer processes (loading the packages), so they are few, each
 * runs several writers at once, and they load while the server starts. The phases are latched on
 * the writers' reports: a restart comes once enough calls were acknowledged since the last one.
 *
 * Needs Debian's PostgreSQL binaries: an external or PGlite server cannot be crashed.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Ids } from "@patchbay/core"
import { PostgresServer } from "@patchbay/testing"
import { Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { SqlStore } from "../src/index.js"

const processes = 2
/** Concurrent writers per process: calls in flight when the server dies. */
const writers = 2
const restarts = 2
/** Calls acknowledged between restarts (and after the last one, to show the writers recovered). */
const successesPerPhase = processes * writers
/** A writer stops after this many rounds even if never told to: the loop is bounded. */
const rounds = 2000

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const childScript = fileURLToPath(new URL("./support/crashChild.ts", import.meta.url))

type Report =
  | { readonly op: "instance"; readonly name: string; readonly id: string | null; readonly error?: string }
  | { readonly op: "credential"; readonly instanceId: string; readonly id: string | null; readonly error?: string }

/** Every child's reports, with waiters woken on each new one: the test's latches. */
class Reports {
  readonly all: Array<Report> = []
  readonly ready = new Set<number>()
  readonly done = new Set<number>()
  readonly exited = new Set<number>()
  private waiters: Array<() => void> = []
  add(child: number, line: string) {
    if (line === '"ready"') this.ready.add(child)
    else if (line === '"done"') this.done.add(child)
    else this.all.push(JSON.parse(line) as Report)
    this.wake()
  }
  exit(child: number) {
    this.exited.add(child)
    this.wake()
  }
  private wake() {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
  get successes() {
    return this.all.filter((r) => r.id !== null).length
  }
  /** Resolves once `condition` holds (checked after every report). */
  until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (condition() ? resolve() : this.waiters.push(check))
      check()
    })
  }
}

const spawnChild = (index: number, reports: Reports): ChildProcess => {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@patchbay/source", childScript], {
    cwd: packageDir,
    env: { ...process.env, CHILD: String(index), ROUNDS: String(rounds), WRITERS: String(writers) },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let buffered = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split("\n")
    buffered = lines.pop()!
    for (const line of lines) if (line.trim() !== "") reports.add(index, line.trim())
  })
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.on("exit", (code) => {
    if (code !== 0) process.stderr.write(`crash child ${index} exited with ${code}: ${stderr}\n`)
    reports.exit(index)
  })
  return child
}

const count = async (client: pg.Client, sql: string, params: ReadonlyArray<unknown> = []) =>
  Number((await client.query(sql, [...params])).rows[0].count)

const haveDebian = PostgresServer.debianBinDir() !== undefined && !process.env.PATCHBAY_TEST_DATABASE_URL

describe.skipIf(!haveDebian)("crash safety", () => {
  it.live(
    "after immediate restarts under load: acknowledged writes are there and audited, failed ones left nothing half-written",
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        const seconds = () => (Date.now() - started) / 1000
        const reports = new Reports()
        // The writers load their modules while the server starts; they wait for their settings.
        const children = yield* Effect.acquireRelease(
          Effect.sync(() => Array.from({ length: processes }, (_, i) => spawnChild(i, reports))),
          (children) => Effect.sync(() => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")))
        )
        const exited = children.map((c) => new Promise<number | null>((resolve) => c.on("exit", resolve)))
        const server = yield* Effect.acquireRelease(
          Effect.promise(() => PostgresServer.start({ durableCommits: true })),
          (server) => Effect.promise(() => server.dispose())
        )
        assert.strictEqual(server.kind, "debian")
        yield* Effect.scoped(Layer.build(SqlStore.layerPg({ url: Redacted.make(server.url), maxConnections: 1 })))
        const orgId = yield* Ids.make(Ids.OrgId)
        const settings = JSON.stringify({
          databaseUrl: server.url,
          key: randomBytes(32).toString("base64"),
          fingerprintKey: randomBytes(32).toString("base64"),
          orgId
        })
        for (const child of children) child.stdin!.write(`${settings}\n`)
        // Each latch also opens when a child exits, so that a child that died fails the test at once.
        const orExited = (condition: () => boolean) => () => condition() || reports.exited.size > 0
        yield* Effect.promise(() => reports.until(orExited(() => reports.ready.size === processes)))
        assert.strictEqual(reports.ready.size, processes, "a writer did not start")
        const timeline: Record<string, number> = { ready: seconds() }
        for (const child of children) child.stdin!.write("go\n")

        let mark = 0
        for (let r = 0; r < restarts; r++) {
          yield* Effect.promise(() => reports.until(orExited(() => reports.successes >= mark + successesPerPhase)))
          assert.strictEqual(reports.exited.size, 0, "a writer died")
          const restart = Date.now()
          yield* Effect.promise(() => server.crashRestart())
          timeline[`restart ${r + 1}`] = (Date.now() - restart) / 1000
          mark = reports.successes
        }
        yield* Effect.promise(() => reports.until(orExited(() => reports.successes >= mark + successesPerPhase)))
        assert.strictEqual(reports.exited.size, 0, "a writer died")
        for (const child of children) child.stdin!.write("stop\n")
        yield* Effect.promise(() => reports.until(() => reports.exited.size === processes))
        assert.deepStrictEqual(
          yield* Effect.promise(() => Promise.all(exited)),
          children.map(() => 0)
        )
        assert.strictEqual(reports.done.size, processes)
        timeline.writersDone = seconds()

        const client = new pg.Client({ connectionString: server.url })
        yield* Effect.acquireRelease(
          Effect.promise(() => client.connect()),
          () => Effect.promise(() => client.end())
        )
        const instances = reports.all.filter((r) => r.op === "instance")
        const credentials = reports.all.filter((r) => r.op === "credential")
        const figures = yield* Effect.promise(async () => {
          const ackedInstances = instances.filter((r) => r.id !== null).map((r) => r.id!)
          const ackedCredentials = credentials.filter((r) => r.id !== null).map((r) => r.id!)
          // Acknowledged: the row and its audit event.
          const missingInstances = await count(
            client,
            `SELECT count(*) FROM unnest($1::uuid[]) AS a(id) WHERE NOT EXISTS
              (SELECT 1 FROM patchbay.instances i WHERE i.id = a.id)
             OR NOT EXISTS (SELECT 1 FROM patchbay.audit_events e WHERE e.instance_id = a.id AND e.action = 'instance.created')`,
            [ackedInstances]
          )
          const missingCredentials = await count(
            client,
            `SELECT count(*) FROM unnest($1::uuid[]) AS a(id) WHERE NOT EXISTS
              (SELECT 1 FROM patchbay.credentials c WHERE c.id = a.id)
             OR NOT EXISTS (SELECT 1 FROM patchbay.audit_events e
               WHERE e.action = 'credential.created' AND e.details->>'credentialId' = a.id::text)`,
            [ackedCredentials]
          )
          // Failed: nothing, or (the commit went through, its answer was lost) the whole unit.
          const failedNames = instances.filter((r) => r.id === null).map((r) => (r as { name: string }).name)
          const committedDespiteFailure =
            (await count(client, "SELECT count(*) FROM patchbay.instances WHERE instance_name = ANY($1)", [
              failedNames
            ])) +
            (await count(client, "SELECT count(*) FROM patchbay.credentials WHERE instance_id = ANY($1::uuid[])", [
              credentials.filter((r) => r.id === null).map((r) => r.instanceId)
            ]))
          // Half-written state anywhere in the database.
          const halfWritten = {
            credentialStateWithoutCredential: await count(
              client,
              `SELECT count(*) FROM patchbay.instances i WHERE (i.has_credentials OR i.account_fingerprint IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM patchbay.credentials c WHERE c.org_id = i.org_id AND c.instance_id = i.id
                  AND c.revoked_at IS NULL AND c.account_fingerprint IS NOT DISTINCT FROM i.account_fingerprint)`
            ),
            credentialWithoutInstanceState: await count(
              client,
              `SELECT count(*) FROM patchbay.credentials c JOIN patchbay.instances i ON i.id = c.instance_id
                WHERE c.revoked_at IS NULL AND NOT i.has_credentials`
            ),
            instanceWithoutEvent: await count(
              client,
              `SELECT count(*) FROM patchbay.instances i WHERE NOT EXISTS
                (SELECT 1 FROM patchbay.audit_events e WHERE e.instance_id = i.id AND e.action = 'instance.created')`
            ),
            credentialWithoutEvent: await count(
              client,
              `SELECT count(*) FROM patchbay.credentials c WHERE NOT EXISTS (SELECT 1 FROM patchbay.audit_events e
                WHERE e.action = 'credential.created' AND e.details->>'credentialId' = c.id::text)`
            ),
            eventWithoutRow: await count(
              client,
              `SELECT count(*) FROM patchbay.audit_events e WHERE
                (e.action = 'instance.created' AND NOT EXISTS (SELECT 1 FROM patchbay.instances i WHERE i.id = e.instance_id))
                OR (e.action = 'credential.created' AND NOT EXISTS
                  (SELECT 1 FROM patchbay.credentials c WHERE c.id::text = e.details->>'credentialId'))`
            )
          }
          return {
            attempted: reports.all.length,
            acknowledged: ackedInstances.length + ackedCredentials.length,
            failed: reports.all.length - ackedInstances.length - ackedCredentials.length,
            failures: [...new Set(reports.all.flatMap((r) => (r.error === undefined ? [] : [r.error])))],
            committedDespiteFailure,
            timeline,
            missingInstances,
            missingCredentials,
            halfWritten
          }
        })
        process.stdout.write(
          `crash test (${processes} processes × ${writers} writers, ${restarts} restarts, ${seconds()} s): ${JSON.stringify(figures)}\n`
        )
        assert.isAbove(figures.failed, 0, "the restarts interrupted no call: the test proved nothing")
        assert.strictEqual(figures.missingInstances, 0)
        assert.strictEqual(figures.missingCredentials, 0)
        assert.deepStrictEqual(figures.halfWritten, {
          credentialStateWithoutCredential: 0,
          credentialWithoutInstanceState: 0,
          instanceWithoutEvent: 0,
          credentialWithoutEvent: 0,
          eventWithoutRow: 0
        })
      }).pipe(Effect.scoped),
    120_000
  )
})
