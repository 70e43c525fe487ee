/**
 * The telemetry layer on in-memory exporters: every finished span, and the metrics as a reader
 * collects them on demand.
 */
import type { Attributes } from "@opentelemetry/api"
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  type MetricData,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"
import { Telemetry } from "../../src/index.js"

/** What a test sees of the exported telemetry. */
export interface Observed {
  readonly spans: () => ReadonlyArray<ReadableSpan>
  /** Collects the metrics now (the reader's `forceFlush`) and returns every exported metric. */
  readonly collect: Effect.Effect<ReadonlyArray<MetricData>>
  /** The collected value of a counter or gauge data point with these attributes (0 when absent). */
  readonly value: (name: string, attributes: Attributes) => Effect.Effect<number>
  /** The collected count and bucket boundaries of a histogram data point (count 0 when absent). */
  readonly histogram: (
    name: string,
    attributes: Attributes
  ) => Effect.Effect<{ readonly count: number; readonly boundaries: ReadonlyArray<number> }>
  /** Everything exported, as text: span names, attributes, events and status; metric names and attributes. */
  readonly text: Effect.Effect<string>
}

const matches = (attributes: Attributes, wanted: Attributes) =>
  Object.entries(wanted).every(([key, value]) => attributes[key] === value)

/** Runs `body` with the telemetry layer exporting into memory. */
export const observed = <A, E, R>(body: (observed: Observed) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const spans = new InMemorySpanExporter()
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
    const collect = Effect.promise(() => reader.forceFlush()).pipe(
      Effect.map(
        () =>
          exporter
            .getMetrics()
            .at(-1)
            ?.scopeMetrics.flatMap((scope) => scope.metrics) ?? []
      )
    )
    const point = (name: string, attributes: Attributes) =>
      Effect.map(collect, (metrics) =>
        metrics
          .filter((metric) => metric.descriptor.name === name)
          .flatMap((metric) => metric.dataPoints.map((point) => ({ type: metric.dataPointType, point })))
          .find(({ point }) => matches(point.attributes, attributes))
      )
    const result: Observed = {
      spans: () => spans.getFinishedSpans(),
      collect,
      value: (name, attributes) =>
        Effect.map(point(name, attributes), (found) =>
          found === undefined || found.type === DataPointType.HISTOGRAM ? 0 : Number(found.point.value)
        ),
      histogram: (name, attributes) =>
        Effect.map(point(name, attributes), (found) => {
          if (found === undefined || found.type !== DataPointType.HISTOGRAM) return { count: 0, boundaries: [] }
          const value = found.point.value as { count: number; buckets: { boundaries: Array<number> } }
          return { count: value.count, boundaries: value.buckets.boundaries }
        }),
      text: Effect.map(collect, (metrics) =>
        JSON.stringify({
          spans: spans.getFinishedSpans().map((span) => ({
            name: span.name,
            attributes: span.attributes,
            events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
            status: span.status
          })),
          metrics: metrics.map((metric) => ({
            name: metric.descriptor.name,
            description: metric.descriptor.description,
            points: metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }))
          }))
        })
      )
    }
    return body(result).pipe(
      Effect.provide(
        Telemetry.layer({
          serviceName: "patchbay-test",
          spanProcessors: [new SimpleSpanProcessor(spans)],
          metricReaders: [reader]
        })
      )
    )
  })
