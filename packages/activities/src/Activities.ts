/**
 * The activities a workflow calls: Send Email, Run Query, Fetch File, Send SMS, Get Schema and
 * Execute DDL. Each takes an instance id (and optionally a credential scope), uses the `Actor` in
 * context, and fails only with `ReconnectRequired`, `TransientFailure` or `ActivityRejected`.
 *
 * A `ReconnectRequired` marks the instance `reconnect_required` (audited); the next success marks
 * it `active` again. Every DDL preview, execution and refusal is audited; an execution also as
 * `ddl.attempted` before it runs (not run when that row cannot be written).
 *
 * @since 0.1.0
 */
import {
  ActivityError,
  type Actor,
  AuditLog,
  type ConnectorDescriptor,
  ConnectorInstances,
  type ConnectorRegistry,
  CredentialScope,
  Database,
  DomainError,
  FailureClassifier,
  Ids,
  InputBounds,
  Messaging
} from "@patchbay/core"
import { Connection, type CredentialResolver } from "@patchbay/credentials"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { redact } from "./internal/redactSql.js"
import { load as loadSqlScanner } from "./internal/sqlTokens.js"

/**
 * Which instance an activity uses and, optionally, which credential scope (the actor must belong
 * to it); without a scope the actor's precedence applies (agent → user → workspace → organization).
 *
 * @since 0.1.0
 */
export const Target = Schema.Struct({
  instanceId: Schema.String,
  scope: Schema.optional(CredentialScope.CredentialScope)
})
/** @since 0.1.0 */
export type Target = typeof Target.Encoded

/**
 * One activity: its input names the target instance, its only failures are `ActivityError`s.
 *
 * @since 0.1.0
 */
export type Activity<Input, A> = (input: Target & Input) => Effect.Effect<A, ActivityError.ActivityError, Actor.Actor>

/**
 * The activities, each failing only with an `ActivityError` (core's `FailureClassifier.classify`).
 *
 * @since 0.1.0
 */
export interface ActivitiesShape {
  readonly sendEmail: Activity<typeof Messaging.EmailMessage.Encoded, Messaging.EmailReceipt>
  readonly runQuery: Activity<typeof Database.QueryRequest.Encoded, Database.QueryResult>
  /**
   * A read-only statement's rows in batches, fetched as the stream is pulled; stopping the stream
   * stops the statement on the server. Declared under the `run_query` operation.
   */
  readonly streamQuery: (
    input: Target & typeof Database.StreamQueryRequest.Encoded
  ) => Stream.Stream<Database.RowBatch, ActivityError.ActivityError, Actor.Actor>
  readonly getSchema: Activity<typeof Database.SchemaRequest.Encoded, Database.DatabaseSchema>
  readonly executeDdl: Activity<typeof Database.DdlRequest.Encoded, Database.DdlResult>
  readonly sendSms: Activity<typeof Messaging.SmsMessage.Encoded, Messaging.SmsReceipt>
  /** Streams the file into `sink`; the sink's own failures pass through unchanged. */
  readonly fetchFile: <E>(
    input: Target & typeof Messaging.FetchFileRequest.Encoded,
    sink: Sink.Sink<unknown, Uint8Array, never, E>
  ) => Effect.Effect<Messaging.FetchedFile, ActivityError.ActivityError | E, Actor.Actor>
}

/**
 * The activities service.
 *
 * @since 0.1.0
 */
export class Activities extends Context.Tag("@patchbay/activities/Activities")<Activities, ActivitiesShape>() {}

const isInstanceId = Schema.is(Ids.InstanceId)
const decodeOptions = { errors: "all", onExcessProperty: "ignore" } as const

const text = InputBounds.boundedString

/** Bounds of the target: an id and a scope of bounded, safe text. */
const targetBounds = {
  instanceId: text(64),
  scope: Schema.optional(Schema.Struct({ type: text(32), id: text(64) }))
}

/** Bounds of one query parameter: JSON (a workflow's values), at most 1 MiB of characters. */
const paramLimits: InputBounds.JsonLimits = {
  maxDepth: 16,
  maxValues: 100_000,
  maxStringLength: 1_048_576,
  maxKeyLength: 1_024,
  maxSize: 4_194_304
}

/** The most characters of a reason. */
const maxReason = 2_048

const QueryBounds = Schema.Struct({
  ...targetBounds,
  sql: InputBounds.Sql,
  params: Schema.optional(InputBounds.boundedArray(InputBounds.boundedJson(paramLimits), 10_000)),
  reason: Schema.optional(text(maxReason))
})

const DdlBounds = Schema.Struct({
  ...targetBounds,
  sql: InputBounds.Sql,
  reason: Schema.optional(text(maxReason))
})

const SchemaBounds = Schema.Struct({
  ...targetBounds,
  schemas: Schema.optional(InputBounds.boundedArray(text(128), 1_000))
})

/** RFC 5321's longest path, and 1,000 recipients in all fields. */
const address = text(320)
const recipients = Schema.optional(InputBounds.boundedArray(address, 1_000))

const EmailBounds = Schema.Struct({
  ...targetBounds,
  from: Schema.optional(address),
  to: recipients,
  cc: recipients,
  bcc: recipients,
  subject: text(4_096),
  text: Schema.optional(text(16_777_216)),
  html: Schema.optional(text(16_777_216)),
  attachments: Schema.optional(
    InputBounds.boundedArray(
      Schema.Struct({ filename: text(255), contentType: Schema.optional(text(255)), content: text(50_000_000) }),
      100
    )
  )
})

const SmsBounds = Schema.Struct({
  ...targetBounds,
  to: text(32),
  from: Schema.optional(text(32)),
  body: text(1_600)
})

const FetchBounds = Schema.Struct({
  ...targetBounds,
  path: text(8_192)
})

/** The instance id of an input refused by decoding, when it is one; never the input's own text otherwise. */
const instanceIdOf = (input: unknown): string => {
  const id =
    typeof input === "object" && input !== null ? Object.getOwnPropertyDescriptor(input, "instanceId") : undefined
  return id !== undefined && isInstanceId(id.value) ? id.value : "unknown"
}

/**
 * The target and the operation's request, or why the input is invalid: first the bounds (lengths,
 * counts, no NUL or unpaired surrogate anywhere), then the operation's own schema.
 */
const decodeRequest = <B, J, A, I>(bounds: Schema.Schema<B, J>, schema: Schema.Schema<A, I>, input: unknown) =>
  Schema.decodeUnknown(
    bounds,
    decodeOptions
  )(input).pipe(
    Effect.zipRight(
      Effect.all({
        target: Schema.decodeUnknown(Target, decodeOptions)(input),
        request: Schema.decodeUnknown(schema, decodeOptions)(input)
      })
    ),
    Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
  )

/** A sink's own failure, carried past classification untouched. */
class SinkFailed<E> {
  readonly _tag = "SinkFailed"
  constructor(readonly error: E) {}
}

/** What an activity may fail with before classification: a classifiable failure or the sink's own. */
type Failure = FailureClassifier.Failure | SinkFailed<unknown>

const isSinkFailed = (error: unknown): error is SinkFailed<unknown> => error instanceof SinkFailed

type Services =
  | ConnectorInstances.ConnectorInstances
  | ConnectorRegistry.ConnectorRegistry
  | CredentialResolver.CredentialResolver
  | AuditLog.AuditLog

/**
 * The activities on `ConnectorInstances`, `ConnectorRegistry`, `CredentialResolver` and `AuditLog`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Activities, never, Services> = Layer.effect(
  Activities,
  Effect.gen(function* () {
    const context = yield* Effect.context<Services>()
    // The SQL redactor's scanner; should it fail to load, audit rows show no SQL at all.
    yield* loadSqlScanner
    const instances = Context.get(context, ConnectorInstances.ConnectorInstances)

    /** The outcome of a failure: classified, and the instance flagged when it needs a reconnect. */
    const settle = (
      instance: FailureClassifier.InstanceRef,
      failure: Failure
    ): Effect.Effect<never, ActivityError.ActivityError | SinkFailed<unknown>, Actor.Actor> => {
      if (failure instanceof SinkFailed) return Effect.fail(failure)
      const outcome = FailureClassifier.classify(instance, failure)
      if (outcome._tag !== "ReconnectRequired" || !isInstanceId(instance.id)) return Effect.fail(outcome)
      return instances
        .setStatus(instance.id, "reconnect_required", outcome.reason)
        .pipe(Effect.ignore, Effect.zipRight(Effect.fail(outcome)))
    }

    /**
     * Runs one operation on an instance: usable instance, connection opened for the operation
     * (declared operation, resolved credential), driver call; failures classified, and the
     * instance's status kept in step with the outcome.
     */
    const perform = <A>(
      operation: ConnectorDescriptor.Operation,
      target: typeof Target.Type,
      use: (connection: Connection.Connection) => Effect.Effect<A, Failure> | undefined
    ): Effect.Effect<A, ActivityError.ActivityError | SinkFailed<unknown>, Actor.Actor> => {
      const unknownInstance: FailureClassifier.InstanceRef = {
        id: target.instanceId,
        instanceName: target.instanceId,
        connectorKey: "unknown",
        authType: "basic"
      }
      return Effect.gen(function* () {
        const instance = yield* instances.getUsable(target.instanceId)
        const options = { operation, ...(target.scope === undefined ? {} : { scope: target.scope }) }
        return yield* Connection.open(instance, options).pipe(
          Effect.flatMap(
            (connection): Effect.Effect<A, Failure> =>
              use(connection) ??
              Effect.fail(new DomainError.OperationUnsupported({ connector: instance.connectorKey, operation }))
          ),
          Effect.tap(() =>
            instance.status === "reconnect_required"
              ? instances.setStatus(instance.id, "active", `${operation} succeeded`)
              : Effect.void
          ),
          Effect.catchAll((failure: Failure) => settle(instance, failure))
        )
      }).pipe(
        Effect.catchAll((failure: Failure) => settle(unknownInstance, failure)),
        Effect.provide(context)
      )
    }

    const rejectInput = (input: unknown) => (error: DomainError.InvalidInput) =>
      Effect.fail(
        new ActivityError.ActivityRejected({
          instanceId: instanceIdOf(input),
          reason: error.message
        })
      )

    const activity =
      <B, J, A, I, R, E extends Failure>(
        operation: ConnectorDescriptor.Operation,
        bounds: Schema.Schema<B, J>,
        schema: Schema.Schema<A, I>,
        call: (connection: Connection.Connection, request: A) => Effect.Effect<R, E> | undefined
      ) =>
      (input: unknown): Effect.Effect<R, ActivityError.ActivityError, Actor.Actor> =>
        decodeRequest(bounds, schema, input).pipe(
          Effect.catchAll(rejectInput(input)),
          Effect.flatMap(({ target, request }) =>
            perform(operation, target, (connection) => call(connection, request))
          ),
          Effect.catchIf(isSinkFailed, Effect.die)
        )

    /**
     * Run Query. A DELETE/UPDATE that touched every row of a table is audited as destructive DDL
     * is: run with its reason, or refused for want of one.
     */
    const runQuery = (input: Target & typeof Database.QueryRequest.Encoded) =>
      decodeRequest(QueryBounds, Database.QueryRequest, input).pipe(
        Effect.catchAll(rejectInput(input)),
        Effect.flatMap(({ target, request }) =>
          Effect.flatMap(Effect.context<Actor.Actor>(), (actor) => {
            const audit = (outcome: AuditLog.AuditOutcome, details: Record<string, unknown>) =>
              redact(request.sql).pipe(
                Effect.flatMap((sql) =>
                  AuditLog.record("query.table_wide", {
                    instanceId: isInstanceId(target.instanceId) ? target.instanceId : null,
                    outcome,
                    details: { sql, reason: request.reason ?? null, ...details }
                  })
                ),
                Effect.provide(context),
                Effect.provide(actor),
                Effect.ignore
              )
            return perform("run_query", target, (c) =>
              c.connector.driver.query?.(c.context, request).pipe(
                Effect.tap((result) =>
                  result.tableWide.length === 0 ? Effect.void : audit("success", { tables: result.tableWide })
                ),
                Effect.tapError((error) =>
                  error._tag === "RequestRejected" && error.status === "reason_required"
                    ? Effect.flatMap(redact(error.message), (text) => audit("refused", { error: text }))
                    : Effect.void
                )
              )
            )
          })
        ),
        Effect.catchIf(isSinkFailed, Effect.die)
      )

    /** Streaming query: the connection opened as Run Query's is, the stream's failures classified alike. */
    const streamQuery = (
      input: Target & typeof Database.StreamQueryRequest.Encoded
    ): Stream.Stream<Database.RowBatch, ActivityError.ActivityError, Actor.Actor> =>
      decodeRequest(QueryBounds, Database.StreamQueryRequest, input).pipe(
        Effect.catchAll(rejectInput(input)),
        Effect.flatMap(({ target, request }) =>
          perform("run_query", target, (c) => {
            const open = c.connector.driver.streamQuery
            if (open === undefined) return undefined
            return Effect.succeed(
              open(c.context, request).pipe(
                Stream.catchAll((failure) => Stream.fromEffect(settle(c.instance, failure)))
              )
            )
          })
        ),
        Effect.map(Stream.catchAll((failure) => (isSinkFailed(failure) ? Stream.die(failure) : Stream.fail(failure)))),
        Effect.catchIf(isSinkFailed, Effect.die),
        Stream.unwrap,
        Stream.withSpan("Activities.streamQuery")
      )

    const executeDdl = (input: Target & typeof Database.DdlRequest.Encoded) =>
      decodeRequest(DdlBounds, Database.DdlRequest, input).pipe(
        Effect.catchAll(rejectInput(input)),
        Effect.flatMap(({ target, request }) => {
          const audit = (outcome: AuditLog.AuditOutcome, details: Record<string, unknown>) =>
            redact(request.sql).pipe(
              Effect.flatMap((sql) =>
                AuditLog.record(request.confirm ? "ddl.executed" : "ddl.previewed", {
                  instanceId: isInstanceId(target.instanceId) ? target.instanceId : null,
                  outcome,
                  details: { sql, reason: request.reason ?? null, ...details }
                })
              ),
              Effect.provide(context),
              Effect.ignore
            )
          // The DDL runs on the connector's database and its audit events go to Patchbay's store: two
          // databases, so no one transaction. An execution is audited as attempted before it runs
          // (no audit row, no execution) and with its outcome after.
          const attempted = request.confirm
            ? Effect.flatMap(redact(request.sql), (sql) =>
                AuditLog.record("ddl.attempted", {
                  instanceId: isInstanceId(target.instanceId) ? target.instanceId : null,
                  details: { sql, reason: request.reason ?? null }
                })
              ).pipe(
                Effect.provide(context),
                Effect.mapError(
                  (error) =>
                    new ActivityError.TransientFailure({
                      instanceId: target.instanceId,
                      reason: `the attempt could not be audited, so the DDL was not run (${error.message})`
                    })
                )
              )
            : Effect.void
          const executed = perform("execute_ddl", target, (c) =>
            c.connector.driver.executeDdl?.(c.context, request)
          ).pipe(
            Effect.catchIf(isSinkFailed, Effect.die),
            Effect.tap((result) =>
              Effect.flatMap(
                Effect.forEach(result.statements, (s) =>
                  Effect.map(redact(s.sql), (sql) => ({
                    sql,
                    kind: s.kind,
                    destructive: s.destructive,
                    tables: s.tables,
                    effects: s.effects
                  }))
                ),
                (statements) => audit("success", { executed: result.executed, statements, notes: result.notes })
              )
            ),
            Effect.tapError((error) =>
              Effect.flatMap(redact(error.message), (text) =>
                audit(error._tag === "ActivityRejected" ? "refused" : "failure", { error: text })
              )
            )
          )
          return Effect.zipRight(attempted, executed)
        })
      )

    return Activities.of({
      sendEmail: Effect.fn("Activities.sendEmail")(
        activity("send_email", EmailBounds, Messaging.EmailMessage, (c, message) =>
          c.connector.driver.sendEmail?.(c.context, message)
        )
      ),
      runQuery: Effect.fn("Activities.runQuery")(runQuery),
      getSchema: Effect.fn("Activities.getSchema")(
        activity("get_schema", SchemaBounds, Database.SchemaRequest, (c, request) =>
          c.connector.driver.discoverSchema?.(c.context, request)
        )
      ),
      executeDdl: Effect.fn("Activities.executeDdl")(executeDdl),
      streamQuery,
      sendSms: Effect.fn("Activities.sendSms")(
        activity("send_sms", SmsBounds, Messaging.SmsMessage, (c, message) =>
          c.connector.driver.sendSms?.(c.context, message)
        )
      ),
      fetchFile: <E>(
        input: Target & typeof Messaging.FetchFileRequest.Encoded,
        sink: Sink.Sink<unknown, Uint8Array, never, E>
      ): Effect.Effect<Messaging.FetchedFile, ActivityError.ActivityError | E, Actor.Actor> => {
        const tagged = Sink.mapError(sink, (error) => new SinkFailed(error))
        return decodeRequest(FetchBounds, Messaging.FetchFileRequest, input).pipe(
          Effect.catchAll(rejectInput(input)),
          Effect.flatMap(({ target, request }) =>
            perform("fetch_file", target, (c) => c.connector.driver.fetchFile?.(c.context, request, tagged))
          ),
          Effect.catchIf(isSinkFailed, (failed) => Effect.fail(failed.error as E)),
          Effect.withSpan("Activities.fetchFile")
        )
      }
    })
  })
)
