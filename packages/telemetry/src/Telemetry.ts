/**
 * Patchbay's traces and metrics through `@effect/opentelemetry`: one layer that gives the host's
 * effects an OpenTelemetry tracer (every Patchbay span, such as `CredentialResolver.resolve`,
 * `Connection.open` and `OAuth2.refresh`, becomes an OpenTelemetry span) and hands effect's metric
 * registry (`PatchbayMetrics` and the host's own metrics) to OpenTelemetry metric readers, under a
 * Patchbay resource. Without this layer spans go to effect's built-in tracer and metrics stay in
 * process.
 *
 * @since 0.1.0
 */
import * as Metrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import * as Tracer from "@effect/opentelemetry/Tracer"
import type { Attributes } from "@opentelemetry/api"
import type { MetricReader } from "@opentelemetry/sdk-metrics"
import { BasicTracerProvider, type Sampler, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Arr from "effect/Array"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Options of `layer`. With no span processor no tracer is installed; with no metric reader no
 * metric is exported.
 *
 * @since 0.1.0
 */
export interface Options {
  /** `service.name` of the resource (default `patchbay`). */
  readonly serviceName?: string | undefined
  /** `service.version` of the resource. */
  readonly serviceVersion?: string | undefined
  /** More resource attributes (a deployment's name, a region); `service.namespace` defaults to `patchbay`. */
  readonly attributes?: Attributes | undefined
  /** Where finished spans go: a `BatchSpanProcessor` around the host's exporter, usually. */
  readonly spanProcessors?: ReadonlyArray<SpanProcessor> | undefined
  /**
   * Which traces are recorded and exported (default: all), such as a `TraceIdRatioBasedSampler`
   * under a `ParentBasedSampler`. It bounds the export volume; the in-process cost of tracing is
   * the tracer's, sampled or not (docs/observability.md).
   */
  readonly sampler?: Sampler | undefined
  /** Who collects metrics: a `PeriodicExportingMetricReader` around the host's exporter, usually. */
  readonly metricReaders?: ReadonlyArray<MetricReader> | undefined
  /** How long shutting down may take to flush spans and metrics (default 3 seconds). */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

/**
 * The Patchbay resource: `service.name` (default `patchbay`), `service.namespace` `patchbay`, the
 * version and the host's attributes.
 *
 * @since 0.1.0
 */
export const layerResource = (options: Options = {}): Layer.Layer<Resource.Resource> =>
  Resource.layer({
    serviceName: options.serviceName ?? "patchbay",
    ...(options.serviceVersion === undefined ? {} : { serviceVersion: options.serviceVersion }),
    attributes: { "service.namespace": "patchbay", ...options.attributes }
  })

const tracerProvider = (
  processors: ReadonlyArray<SpanProcessor>,
  sampler: Sampler | undefined,
  shutdownTimeout: Duration.DurationInput
): Layer.Layer<Tracer.OtelTracerProvider, never, Resource.Resource> =>
  Layer.scoped(
    Tracer.OtelTracerProvider,
    Effect.flatMap(Resource.Resource, (resource) =>
      Effect.acquireRelease(
        Effect.sync(
          () =>
            new BasicTracerProvider({
              resource,
              spanProcessors: [...processors],
              ...(sampler === undefined ? {} : { sampler })
            })
        ),
        (provider) =>
          Effect.promise(() => provider.forceFlush().then(() => provider.shutdown())).pipe(
            Effect.ignoreLogged,
            Effect.interruptible,
            Effect.timeoutOption(shutdownTimeout)
          )
      )
    )
  )

/**
 * Traces and metrics through OpenTelemetry, for as long as the layer lives: spans are flushed and
 * the readers shut down when its scope closes.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<never> => {
  const shutdownTimeout = options.shutdownTimeout ?? "3 seconds"
  const processors = options.spanProcessors ?? []
  const readers = options.metricReaders ?? []
  const tracing =
    processors.length === 0
      ? Layer.empty
      : Tracer.layer.pipe(Layer.provide(tracerProvider(processors, options.sampler, shutdownTimeout)))
  const metrics = Arr.isNonEmptyReadonlyArray(readers) ? Metrics.layer(() => readers, { shutdownTimeout }) : Layer.empty
  return Layer.mergeAll(tracing, metrics).pipe(Layer.provide(layerResource(options)))
}
