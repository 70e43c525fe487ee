import { execFile } from "node:child_process"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { PostgresServer } from "@patchbay/testing"
import { formatNanos, medianOf, type Row, type Suite } from "../harness.js"

/**
 * The child: from process start, imports the packages, builds `Patchbay.layer` on the chosen store,
 * stores one instance with a sealed credential and runs one Run Query (`SELECT 1`) against the
 * parent's PostgreSQL. Prints the time since process start (`performance.now()` counts from it)
 * at each step, and the CPU time of the whole process.
 */
const child = `
const { store, url, activities } = JSON.parse(process.env.PATCHBAY_BENCH_HOST)
const mark = {}
const { Effect, Layer, Redacted } = await import("effect")
const { Patchbay } = await import("@patchbay/preset")
const { SqlStore } = await import("@patchbay/store-sql")
const { PgliteStore } = await import("@patchbay/store-pglite")
const { PostgresConnector, PostgresDescriptor } = await import("@patchbay/connector-postgres")
const { Actor, ConnectorInstance, CredentialRepository, CredentialScope, Ids, InstanceRepository } = await import("@patchbay/core")
const { Envelope } = await import("@patchbay/crypto")
const Activities = (await import(activities)).Activities.Activities
mark.imported = performance.now()
const target = new URL(url)
const program = Effect.gen(function* () {
  mark.built = performance.now()
  const actor = Actor.ActorInfo.make({ orgId: Ids.OrgId.make(crypto.randomUUID()), userId: Ids.UserId.make(crypto.randomUUID()) })
  const instance = ConnectorInstance.fresh({
    id: yield* Ids.make(Ids.InstanceId), orgId: actor.orgId,
    connector: { id: PostgresDescriptor.id, key: "postgres" }, instanceName: "Warehouse",
    configuration: { host: target.hostname, port: Number(target.port), database: "postgres", ssl_mode: "disable" },
    authType: "database_password", hasCredentials: true, at: new Date()
  })
  yield* (yield* InstanceRepository.InstanceRepository).insert(instance)
  const scope = CredentialScope.CredentialScope.make({ type: "organization", id: actor.orgId })
  const id = yield* Ids.make(Ids.CredentialId)
  const plaintext = new TextEncoder().encode(JSON.stringify({ username: decodeURIComponent(target.username), password: decodeURIComponent(target.password) }))
  const sealed = yield* (yield* Envelope.Envelope).seal(Redacted.make(plaintext), Envelope.aadOf({ id, instanceId: instance.id, scope }))
  yield* (yield* CredentialRepository.CredentialRepository).insert({ metadata: { id, orgId: actor.orgId, instanceId: instance.id, scope, labels: {}, masked: { password: "****" }, accountFingerprint: null, expiresAt: null, revokedAt: null, createdAt: new Date() }, sealed })
  const result = yield* (yield* Activities).runQuery({ instanceId: instance.id, sql: "SELECT 1 AS one" }).pipe(Effect.provideService(Actor.Actor, actor))
  if (result.rows.length !== 1) return yield* Effect.dieMessage("expected one row")
  mark.queried = performance.now()
})
const storeLayer = store === "pg" ? SqlStore.layerPg({ url: Redacted.make(url) }) : PgliteStore.layer()
await Effect.runPromise(program.pipe(Effect.provide(Patchbay.layer({ store: storeLayer, connectors: [PostgresConnector.connector], keys: "ephemeral", egress: { allowLoopback: true } }))))
const used = process.cpuUsage()
console.log(JSON.stringify({ ...mark, cpu: (used.user + used.system) / 1000 }))
process.exit(0)
`

interface Sample {
  /** Milliseconds since process start: imports done, preset built, first Run Query answered. */
  readonly imported: number
  readonly built: number
  readonly queried: number
  /** CPU time of the process, milliseconds. */
  readonly cpu: number
}

const benchDir = dirname(createRequire(import.meta.url).resolve("@patchbay/preset/package.json"))
const activities = pathToFileURL(createRequire(`${benchDir}/package.json`).resolve("@patchbay/activities")).href

const startOnce = async (store: "pg" | "pglite", url: string): Promise<Sample> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, "--input-type=module", "--eval", child],
    {
      env: { ...process.env, PATCHBAY_BENCH_HOST: JSON.stringify({ store, url, activities }) },
      maxBuffer: 1 << 20
    }
  )
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Sample
}

/**
 * Host process start to first query, reported (no target): a child process imports the packages,
 * builds the preset on `SqlStore.layerPg` (migrations checked on an already migrated database after
 * the first start) or on `PgliteStore.layer()` (fresh, in memory), and runs one Run Query against
 * a throwaway PostgreSQL. Starts of the two stores alternate; medians of five each.
 */
const suite: Suite = {
  name: "host process start to first query (preset)",
  run: async () => {
    const server = await PostgresServer.start()
    try {
      // The first start migrates the database; later ones find it migrated, as a host restart does.
      await startOnce("pg", server.url)
      const samples = { pg: [] as Array<Sample>, pglite: [] as Array<Sample> }
      for (let i = 0; i < 5; i++) {
        samples.pg.push(await startOnce("pg", server.url))
        samples.pglite.push(await startOnce("pglite", server.url))
      }
      const rowOf = (name: string, xs: ReadonlyArray<Sample>): Row => {
        const imported = medianOf(xs.map((x) => x.imported))
        const built = medianOf(xs.map((x) => x.built))
        const queried = medianOf(xs.map((x) => x.queried))
        const cpu = medianOf(xs.map((x) => x.cpu))
        return {
          name: `${name}: imports done ${formatNanos(imported * 1e6)}, preset built ${formatNanos(built * 1e6)}, process CPU ${formatNanos(cpu * 1e6)}`,
          median: queried * 1e6,
          target: "reported",
          met: true
        }
      }
      return [
        rowOf("process start → first Run Query, preset on layerPg", samples.pg),
        rowOf("process start → first Run Query, preset on PgliteStore (fresh, in memory)", samples.pglite)
      ]
    } finally {
      await server.dispose()
    }
  }
}
export default suite
