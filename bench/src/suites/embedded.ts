import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { promisify } from "node:util"
import { formatNanos, type Row, type Suite } from "../harness.js"

/** One start, measured in a process of its own. */
interface Sample {
  /** From the call to ready (PGlite started; for the store also migrated), in nanoseconds. */
  readonly nanos: number
  /** CPU time of the process over the same span, all threads, in nanoseconds. */
  readonly cpu: number
  /** RSS after the imports, before the start, in bytes. */
  readonly rssBefore: number
  /** The process's peak RSS, in bytes. */
  readonly rssPeak: number
}

type Subject = "bare" | "store"

/**
 * The child: imports everything first, then times one start and reports it as a JSON line. It runs
 * in @patchbay/store-pglite's directory, where both the package and its PGlite resolve, with this
 * process's loader flags (tsx, the source condition).
 */
const child = `
const { subject, dataDir } = JSON.parse(process.env.PATCHBAY_BENCH_EMBEDDED)
const { PGlite } = await import("@electric-sql/pglite")
const { PgliteStore } = await import("@patchbay/store-pglite")
const { Effect, Layer } = await import("effect")
const rssBefore = process.memoryUsage().rss
const cpuBefore = process.cpuUsage()
const start = process.hrtime.bigint()
let nanos, cpu
const ready = () => {
  nanos = Number(process.hrtime.bigint() - start)
  const used = process.cpuUsage(cpuBefore)
  cpu = (used.user + used.system) * 1000
}
if (subject === "bare") {
  const db = await PGlite.create(dataDir === null ? undefined : { dataDir })
  ready()
  await db.close()
} else {
  await Effect.runPromise(Effect.scoped(Effect.andThen(Layer.build(PgliteStore.layer(dataDir === null ? {} : { dataDir })), Effect.sync(ready))))
}
console.log(JSON.stringify({ nanos, cpu, rssBefore, rssPeak: process.resourceUsage().maxRSS * 1024 }))
`

const packageDir = dirname(createRequire(import.meta.url).resolve("@patchbay/store-pglite/package.json"))

const startOnce = async (subject: Subject, dataDir: string | null): Promise<Sample> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, "--input-type=module", "--eval", child],
    {
      cwd: packageDir,
      env: { ...process.env, PATCHBAY_BENCH_EMBEDDED: JSON.stringify({ subject, dataDir }) },
      maxBuffer: 1 << 20
    }
  )
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Sample
}

const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Medians of `runs` starts: time to ready, and RSS the start added (peak minus before). */
const measure = async (runs: number, start: () => Promise<Sample>) => {
  const samples: Array<Sample> = []
  for (let i = 0; i < runs; i++) samples.push(await start())
  return {
    nanos: median(samples.map((s) => s.nanos)),
    cpu: median(samples.map((s) => s.cpu)),
    added: median(samples.map((s) => s.rssPeak - s.rssBefore)),
    peak: median(samples.map((s) => s.rssPeak))
  }
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`

const row = (
  name: string,
  subject: { readonly nanos: number; readonly cpu: number; readonly added: number; readonly peak: number },
  baseline: { readonly name: string; readonly nanos: number; readonly cpu: number; readonly added: number },
  maxNanos: number
): Row => ({
  name: `${name} (CPU ${formatNanos(subject.cpu)}, RSS +${mb(subject.added)}, peak ${mb(subject.peak)})`,
  median: subject.nanos,
  baseline: {
    name: `${baseline.name} (CPU ${formatNanos(baseline.cpu)}, RSS +${mb(baseline.added)})`,
    median: baseline.nanos
  },
  target: `≤ ${formatNanos(maxNanos)}, ≤ +250 MB RSS`,
  met: subject.nanos <= maxNanos && subject.added <= 250e6
})

/**
 * The embedded store's start against bare PGlite in the same run, each start in a fresh process
 * (RSS is per process): fresh in memory, fresh in a new data directory, and a restart of an
 * existing one. Bare `PGlite.create()` runs initdb at every fresh start; `PgliteStore.layer()`
 * unpacks the prebuilt data directory and checks the migrations. "RSS +" is what the start added
 * to a process that had already imported both (peak RSS minus RSS before the start); CPU is the
 * process's CPU time over the start, all threads (PGlite compiles its WebAssembly on several),
 * which a loaded machine inflates less than wall time.
 */
const suite: Suite = {
  name: "embedded store (PGlite) start",
  run: async () => {
    const root = mkdtempSync(join(tmpdir(), "patchbay-bench-embedded-"))
    // Each fresh start gets a new directory; the restarts reopen the first one.
    const created: Record<Subject, Array<string>> = { bare: [], store: [] }
    const inNewDir = (subject: Subject) => () => {
      const dataDir = join(root, `${subject}-${created[subject].length}`)
      created[subject].push(dataDir)
      return startOnce(subject, dataDir)
    }
    try {
      const bareMemory = await measure(3, () => startOnce("bare", null))
      const storeMemory = await measure(5, () => startOnce("store", null))
      const bareNewDir = await measure(3, inNewDir("bare"))
      const storeNewDir = await measure(5, inNewDir("store"))
      const bareRestart = await measure(5, () => startOnce("bare", created.bare[0]!))
      const storeRestart = await measure(5, () => startOnce("store", created.store[0]!))
      return [
        row(
          "fresh in memory: PgliteStore.layer()",
          storeMemory,
          { name: "bare PGlite.create()", ...bareMemory },
          1.5e9
        ),
        row(
          "fresh, new dataDir: PgliteStore.layer({ dataDir })",
          storeNewDir,
          { name: "bare PGlite.create({ dataDir })", ...bareNewDir },
          1.5e9
        ),
        row(
          "restart, existing dataDir: PgliteStore.layer({ dataDir })",
          storeRestart,
          { name: "bare PGlite.create({ dataDir })", ...bareRestart },
          1e9
        )
      ]
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
}
export default suite
