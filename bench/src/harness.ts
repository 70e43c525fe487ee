/**
 * The benchmark harness: medians from mitata, ratios against a baseline measured in the same run,
 * and a verdict against each target. Every suite in ./suites exports a default `Suite`.
 */
import * as Effect from "effect/Effect"
import { measure } from "mitata"

/** One measured line of a report. */
export interface Row {
  readonly name: string
  /** Median in nanoseconds. */
  readonly median: number
  /** The baseline's name and median, when this row is compared with one. */
  readonly baseline?: { readonly name: string; readonly median: number }
  /** What the target is, in words (`≤ 1.5× raw pg`, `≤ 25 µs`). */
  readonly target: string
  readonly met: boolean
}

/** A suite: a name and the rows it measures. */
export interface Suite {
  readonly name: string
  readonly run: () => Promise<ReadonlyArray<Row>>
}

/** Median (p50) in nanoseconds of `fn`, sync or async, over at least `minMillis` of samples. */
export const median = async (fn: () => unknown, options: { readonly minMillis?: number } = {}): Promise<number> => {
  const stats = await measure(fn as () => Promise<void>, { min_cpu_time: (options.minMillis ?? 1000) * 1e6 })
  return stats.p50
}

/** A row for a subject compared with a baseline: met when subject/baseline ≤ `maxRatio`. */
export const ratioRow = (
  name: string,
  subject: number,
  baseline: { readonly name: string; readonly median: number },
  maxRatio: number
): Row => ({
  name,
  median: subject,
  baseline,
  target: `≤ ${maxRatio}× ${baseline.name}`,
  met: subject / baseline.median <= maxRatio
})

/** A row for a subject against an absolute limit in nanoseconds. */
export const limitRow = (name: string, subject: number, maxNanos: number): Row => ({
  name,
  median: subject,
  target: `≤ ${formatNanos(maxNanos)}`,
  met: subject <= maxNanos
})

/** Nanoseconds in the unit that reads best. */
export const formatNanos = (ns: number): string =>
  ns < 1e3
    ? `${ns.toFixed(0)} ns`
    : ns < 1e6
      ? `${(ns / 1e3).toFixed(2)} µs`
      : ns < 1e9
        ? `${(ns / 1e6).toFixed(2)} ms`
        : `${(ns / 1e9).toFixed(2)} s`

/** A markdown table of a suite's rows. */
export const table = (suite: string, rows: ReadonlyArray<Row>): string => {
  const lines = [
    `### ${suite}`,
    "",
    "| case | median | baseline | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- |"
  ]
  for (const row of rows) {
    const baseline = row.baseline ? `${row.baseline.name}: ${formatNanos(row.baseline.median)}` : "—"
    const ratio = row.baseline ? `${(row.median / row.baseline.median).toFixed(2)}×` : "—"
    lines.push(
      `| ${row.name} | ${formatNanos(row.median)} | ${baseline} | ${ratio} | ${row.target} | ${row.met ? "yes" : "**no**"} |`
    )
  }
  return lines.join("\n")
}

/** Median wall time in nanoseconds of `runs` sequential runs of a slow async `fn` (seconds, not µs). */
export const medianOfRuns = async (runs: number, fn: () => Promise<unknown>): Promise<number> => {
  const samples: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    await fn()
    samples.push(Number(process.hrtime.bigint() - start))
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

/** The median of some numbers (the upper one of an even count). */
export const medianOf = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** This process's CPU time (user + system) since `since`, in nanoseconds. */
export const cpuNanos = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) * 1_000
}

/** How a case is sampled: `samples` timings of `batch` sequential calls each, as time per call. */
export interface Sampling {
  readonly samples: number
  readonly batch: number
}

/** Medians per call (ns): wall time, and this process's CPU time (what the client side costs, whatever the load). */
export interface PerCall {
  readonly wall: number
  readonly cpu: number
}

/** An effect run again and again in the current fiber: medians per call. */
export const sampleEffect = <A, E, R>(call: Effect.Effect<A, E, R>, { samples, batch }: Sampling) =>
  Effect.gen(function* () {
    const wall: Array<number> = []
    const cpu: Array<number> = []
    for (let s = 0; s < samples; s++) {
      const cpuStart = process.cpuUsage()
      const start = process.hrtime.bigint()
      for (let i = 0; i < batch; i++) yield* call
      wall.push(Number(process.hrtime.bigint() - start) / batch)
      cpu.push(cpuNanos(cpuStart) / batch)
    }
    return { wall: medianOf(wall), cpu: medianOf(cpu) } satisfies PerCall
  })
