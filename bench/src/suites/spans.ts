import { Actor, ConnectorDriver, ConnectorInstances, Ids, PatchbayMetrics } from "@patchbay/core"
import { CredentialResolver, Credentials, CredentialVault } from "@patchbay/credentials"
import { Effect, Layer, ManagedRuntime, Redacted, Runtime, Schema } from "effect"
// bench/package.json does not declare @patchbay/telemetry yet: its sources are imported by path.
import { Telemetry } from "../../../packages/telemetry/src/index.js"
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
const sampling = { samples: 9, batch: 200 }
const loopSampling = { samples: 5, batch: 1 }
/** `per` runs of `effect` in one fiber. */
const loop = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    for (let i = 0; i < per; i++) yield* effect
  })

/**
 * The cost of the spans the hot paths lost (issue 19): `CredentialResolver.resolve` on a warm
 * memory store with its span recorded by effect's own tracer (a host without telemetry) and by the
 * OpenTelemetry tracer of `Telemetry.layer` (a host exporting traces), against the same call in a
 * runtime whose tracer is disabled (`Layer.setTracerEnabled(false)`: no span is recorded) in the
 * same run. The
 * resolve's counter update is in every case; a span alone and a counter update alone are measured
 * beside it.
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

    const endedBefore = ended
    for (let i = 0; i < 100; i++) otelRun(resolveOtel)
    const spansPerResolve = (ended - endedBefore) / 100
    const bareSpan = Effect.withSpan(Effect.void, "bench.span", { captureStackTrace: false })
    const counter = PatchbayMetrics.recordResolve("bench-db", "resolved")
    const loops = {
      void: loop(Effect.void),
      spanEffect: loop(bareSpan),
      counter: loop(counter)
    }

    // Rounds interleave the cases; each case is 9 samples of 200 calls in one fiber per round. CPU
    // time per call is what decides (the machine is shared: wall time follows other processes' load).
    const cases = {
      off: () => untraced.runPromise(sampleEffect(resolveUntraced, sampling)),
      native: () => plain.runPromise(sampleEffect(resolvePlain, sampling)),
      otel: () => otel.runPromise(sampleEffect(resolveOtel, sampling)),
      sampledOut: () => sampled.runPromise(sampleEffect(resolveSampled, sampling)),
      void: () => plain.runPromise(sampleEffect(loops.void, loopSampling)),
      spanNative: () => plain.runPromise(sampleEffect(loops.spanEffect, loopSampling)),
      spanOtel: () => otel.runPromise(sampleEffect(loops.spanEffect, loopSampling)),
      counter: () => plain.runPromise(sampleEffect(loops.counter, loopSampling))
    }
    type Case = keyof typeof cases
    const rounds: Array<Record<Case, PerCall>> = []
    for (let round = 0; round < 7; round++) {
      const result = {} as Record<Case, PerCall>
      for (const name of Object.keys(cases) as Array<Case>) result[name] = await cases[name]()
      rounds.push(result)
    }
    const cpu = (name: Case) => medianOf(rounds.map((round) => round[name].cpu))
    const wall = (name: Case) => medianOf(rounds.map((round) => round[name].wall))
    const ratio = (name: Case) => medianOf(rounds.map((round) => round[name].cpu / round.off.cpu))
    const perLoop = (name: Case) => medianOf(rounds.map((round) => (round[name].cpu - round.void.cpu) / per))
    const baseline = { name: "resolve without a span (CPU)", median: cpu("off") }
    const rows: Array<Row> = [
      limitRow("resolve, tracer disabled (no span), CPU per call", cpu("off"), 25_000),
      ratioRow("resolve with its span, effect's tracer, CPU", baseline.median * ratio("native"), baseline, 1.25),
      ratioRow("resolve with its span, OpenTelemetry tracer, CPU", baseline.median * ratio("otel"), baseline, 1.25),
      limitRow("resolve with its span, OpenTelemetry tracer, CPU per call", cpu("otel"), 25_000),
      ratioRow(
        "resolve, OpenTelemetry tracer, trace not sampled, CPU",
        baseline.median * ratio("sampledOut"),
        baseline,
        1.25
      ),
      limitRow("one span alone, effect's tracer, CPU", perLoop("spanNative"), 25_000),
      limitRow("one span alone, OpenTelemetry tracer, CPU", perLoop("spanOtel"), 25_000),
      limitRow("one counter update (PatchbayMetrics.recordResolve), CPU", perLoop("counter"), 25_000)
    ]
    console.log(
      [
        `spans per resolve: ${spansPerResolve}`,
        `wall per call: resolve off ${formatNanos(wall("off"))}, effect tracer ${formatNanos(wall("native"))}, OpenTelemetry ${formatNanos(wall("otel"))}`,
        `per-round CPU ratios, effect tracer: ${rounds.map((r) => (r.native.cpu / r.off.cpu).toFixed(2)).join(", ")}`,
        `per-round CPU ratios, OpenTelemetry: ${rounds.map((r) => (r.otel.cpu / r.off.cpu).toFixed(2)).join(", ")}`,
        `per-round CPU ratios, OpenTelemetry not sampled: ${rounds.map((r) => (r.sampledOut.cpu / r.off.cpu).toFixed(2)).join(", ")}`
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
