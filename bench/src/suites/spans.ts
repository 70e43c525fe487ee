import { Actor, ConnectorDriver, ConnectorInstances, Ids, PatchbayMetrics } from "@patchbay/core"
import { CredentialResolver, Credentials, CredentialVault } from "@patchbay/credentials"
import { Telemetry } from "@patchbay/telemetry"
import { Effect, Layer, ManagedRuntime, Redacted, Runtime, Schema } from "effect"
import {
  formatNanos,
  limitRow,
  medianOf,
  type PerCall,
  type Row,
  ratioRow,
  type Suite,
  sampleEffect
} from "../harness.js"

const connector = ConnectorDriver.make(
  {
    id: Ids.ConnectorId.make("00000000-0000-4000-8000-000000000001"),
    key: "bench-db",
    name: "Bench database",
    version: "1.0.0",
    authProfiles: ["database_password"],
    operations: ["test_connection"],
    configuration: Schema.Struct({ host: Schema.String, database: Schema.String }),
    credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
    secretFields: ["password"],
    accountFields: ["host", "database", "username"],
    supportsSchemaDiscovery: false
  },
  { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void }
)

const orgId = "0190a000-0000-7000-8000-00000000000a"
const workspaceId = "0190a000-0000-7000-8000-0000000000a1"
const userId = "0190a000-0000-7000-8000-0000000000c1"
const actor = Schema.decodeSync(Actor.ActorInfo)({ orgId, workspaceId, userId })

/**
 * What a host's span processor does per span, roughly: `BatchSpanProcessor.onEnd` queues the span
 * for a background export; here the queue is dropped when full instead of exported.
 */
const queue: Array<unknown> = []
let ended = 0
const queueingProcessor = {
  onStart: () => {},
  onEnd: (span: unknown) => {
    ended++
    if (queue.length >= 2048) queue.length = 0
    queue.push(span)
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve()
}

/** A sampler that records nothing: what a ratio sampler costs for the traces it does not pick. */
const sampledOut = { shouldSample: () => ({ decision: 0 as const }), toString: () => "sampled out" }

/** 100 instances with 3 versions each in a memory store; the resolve of one, as the user actor. */
const setup = Effect.gen(function* () {
  const instances = yield* ConnectorInstances.ConnectorInstances
  const vault = yield* CredentialVault.CredentialVault
  const created = []
  for (let i = 0; i < 100; i++) {
    const view = yield* instances.create({
      connector: "bench-db",
      instanceName: `db ${i}`,
      configuration: { host: `db${i}.internal`, database: "analytics" }
    })
    for (let v = 0; v < 3; v++) {
      yield* vault.create({
        instanceId: view.id,
        scope: { type: "organization", id: orgId },
        credentials: { username: "reader", password: `password-${i}-${v}` }
      })
    }
    created.push(yield* instances.getUsable(view.id))
  }
  const resolver = yield* CredentialResolver.CredentialResolver
  return Effect.provideService(resolver.resolve(created[57]!), Actor.Actor, actor)
}).pipe(Effect.provideService(Actor.Actor, actor))

const per = 1000
const sampling = { samples: 9, batch: 400 }
const loopSampling = { samples: 5, batch: 1 }
/** `per` runs of `effect` in one fiber. */
const loop = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    for (let i = 0; i < per; i++) yield* effect
  })

/**
 * What a span on the resolve path would cost (issue 19: the span `CredentialResolver.resolve` lost
 * for speed), on a warm memory store, all in one run. The resolve runs under the span of the
 * request it serves (an activity, a connection test), and the span measured is one more of the
 * kind the resolve had (no captured call site, two attributes) around it:
 * - on effect's built-in tracer (a host without telemetry) and on the OpenTelemetry tracer of
 *   `Telemetry.layer`, each against the same request without that span;
 * - the OpenTelemetry tracer as a whole against effect's, and a sampler that records nothing;
 * - a runtime without a tracer (`Layer.setTracerEnabled(false)`), and one counter update as the
 *   resolve makes.
 */
const suite: Suite = {
  name: "span and metric cost on the resolve hot path (memory store)",
  run: async () => {
    const plain = ManagedRuntime.make(Credentials.layerMemory([connector]))
    const untraced = ManagedRuntime.make(
      Layer.merge(Credentials.layerMemory([connector]), Layer.setTracerEnabled(false))
    )
    const otel = ManagedRuntime.make(
      Layer.merge(Credentials.layerMemory([connector]), Telemetry.layer({ spanProcessors: [queueingProcessor] }))
    )
    const sampled = ManagedRuntime.make(
      Layer.merge(
        Credentials.layerMemory([connector]),
        Telemetry.layer({ spanProcessors: [queueingProcessor], sampler: sampledOut })
      )
    )
    const plainRun = Runtime.runSync(await plain.runtime())
    const otelRun = Runtime.runSync(await otel.runtime())
    const resolvePlain = await plain.runPromise(setup)
    const resolveUntraced = await untraced.runPromise(setup)
    const resolveOtel = await otel.runPromise(setup)
    const resolveSampled = await sampled.runPromise(setup)
    if (Redacted.value(plainRun(resolvePlain).secrets).password !== "password-57-2") throw new Error("wrong version")
    if (Redacted.value(otelRun(resolveOtel).secrets).password !== "password-57-2") throw new Error("wrong version")

    /** One more span around `effect`, of the same kind as the resolve's. */
    const extra = <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.withSpan(effect, "bench.extra", { captureStackTrace: false, attributes: { "bench.case": "extra" } })
    /** The span of the activity or connection test the resolve runs under. */
    const request = <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.withSpan(effect, "bench.activity", { captureStackTrace: false })
    const counter = PatchbayMetrics.recordResolve("bench-db", "resolved")
    const loops = { void: loop(Effect.void), counter: loop(counter) }

    // Rounds interleave the cases; each case is 9 samples of 400 calls in one fiber per round, 11 rounds. CPU
    // time per call is what decides (the machine is shared: wall time follows other processes' load).
    const cases = {
      off: () => untraced.runPromise(sampleEffect(resolveUntraced, sampling)),
      native: () => plain.runPromise(sampleEffect(request(resolvePlain), sampling)),
      nativeSpan: () => plain.runPromise(sampleEffect(request(extra(resolvePlain)), sampling)),
      otel: () => otel.runPromise(sampleEffect(request(resolveOtel), sampling)),
      otelSpan: () => otel.runPromise(sampleEffect(request(extra(resolveOtel)), sampling)),
      sampledOut: () => sampled.runPromise(sampleEffect(request(extra(resolveSampled)), sampling)),
      void: () => plain.runPromise(sampleEffect(loops.void, loopSampling)),
      counter: () => plain.runPromise(sampleEffect(loops.counter, loopSampling))
    }
    type Case = keyof typeof cases
    const rounds: Array<Record<Case, PerCall>> = []
    for (let round = 0; round < 11; round++) {
      const result = {} as Record<Case, PerCall>
      for (const name of Object.keys(cases) as Array<Case>) result[name] = await cases[name]()
      rounds.push(result)
    }
    const cpu = (name: Case) => medianOf(rounds.map((round) => round[name].cpu))
    const wall = (name: Case) => medianOf(rounds.map((round) => round[name].wall))
    const perRound = (f: (round: Record<Case, PerCall>) => number) => rounds.map(f)
    const show = (xs: ReadonlyArray<number>) => xs.map((x) => x.toFixed(2)).join(", ")
    const ratio = (subject: Case, base: Case) => perRound((r) => r[subject].cpu / r[base].cpu)
    const ratios = {
      nativeSpan: ratio("nativeSpan", "native"),
      otelSpan: ratio("otelSpan", "otel"),
      otelTracer: ratio("otel", "native"),
      sampledOut: ratio("sampledOut", "otelSpan"),
      native: ratio("native", "off")
    }
    const counterNs = medianOf(perRound((r) => (r.counter.cpu - r.void.cpu) / per))
    /** `subject` against `baseName`, whose CPU is the subject's divided by the median per-round ratio. */
    const row = (name: string, subject: Case, xs: ReadonlyArray<number>, baseName: string): Row =>
      ratioRow(name, cpu(subject), { name: baseName, median: cpu(subject) / medianOf(xs) }, 1.1)
    const rows: Array<Row> = [
      limitRow("resolve, no tracer, CPU per call", cpu("off"), 25_000),
      row("resolve + its span, effect's tracer, CPU", "nativeSpan", ratios.nativeSpan, "without the span"),
      row("resolve + its span, OpenTelemetry tracer, CPU", "otelSpan", ratios.otelSpan, "without the span"),
      row("request + resolve, OpenTelemetry tracer, CPU", "otel", ratios.otelTracer, "effect's tracer"),
      row("resolve + its span, trace not sampled, CPU", "sampledOut", ratios.sampledOut, "sampled"),
      limitRow("one counter update (PatchbayMetrics.recordResolve), CPU", counterNs, 25_000)
    ]
    console.log(
      [
        `CPU per call: no tracer ${formatNanos(cpu("off"))}; effect's tracer ${formatNanos(cpu("native"))}, with the span ${formatNanos(cpu("nativeSpan"))}; OpenTelemetry ${formatNanos(cpu("otel"))}, with the span ${formatNanos(cpu("otelSpan"))}, not sampled ${formatNanos(cpu("sampledOut"))}`,
        `wall per call: no tracer ${formatNanos(wall("off"))}, effect's tracer ${formatNanos(wall("native"))}, OpenTelemetry ${formatNanos(wall("otel"))}`,
        `per-round CPU ratios, the span on effect's tracer: ${show(ratios.nativeSpan)}`,
        `per-round CPU ratios, the span on OpenTelemetry: ${show(ratios.otelSpan)}`,
        `per-round CPU ratios, OpenTelemetry vs effect's tracer: ${show(ratios.otelTracer)}`,
        `per-round CPU ratios, not sampled vs sampled: ${show(ratios.sampledOut)}`,
        `per-round CPU ratios, request span on effect's tracer vs no tracer: ${show(ratios.native)}`,
        `spans handed to the processor: ${ended}`
      ].join("\n")
    )
    await untraced.dispose()
    await plain.dispose()
    await otel.dispose()
    await sampled.dispose()
    return rows
  }
}
export default suite
