/**
 * The refresh sweep a host schedules (`OAuth2.sweep`): it walks an organization's enabled OAuth2
 * instances and, per instance and scope, refreshes access tokens that expire soon and touches token
 * sets not refreshed for a while — through the refresh protocol, so a sweep never races a
 * resolution or another process.
 *
 * @since 0.1.0
 */
import {
  ActivityError,
  Actor,
  type ConnectorInstance,
  ConnectorInstances,
  type Credential,
  CredentialRepository,
  CredentialScope,
  DomainError,
  DriverError,
  Ids,
  type ResolvedCredential
} from "@patchbay/core"
import { CredentialResolver } from "@patchbay/credentials"
import { Envelope } from "@patchbay/crypto"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ownerOf } from "./internal/owner.js"
import { isOAuth2 } from "./internal/refreshKey.js"
import * as Secrets from "./internal/secrets.js"
import { type Due, dueWithin, type RefreshProtocol } from "./RefreshProtocol.js"
import * as TokenSet from "./TokenSet.js"

/**
 * `withinMinutes`: refresh access tokens that expire within this many minutes. `idleHours`
 * (default 24): refresh ("touch") token sets not refreshed for this long, so that a rarely used
 * refresh token is exercised (and rotated) before the provider lets it die. `concurrency`
 * (default 4): instances refreshed at once.
 *
 * @since 0.1.0
 */
export class SweepOptions extends Schema.Class<SweepOptions>("@patchbay/oauth2/SweepOptions")({
  withinMinutes: Schema.Number.pipe(
    Schema.between(0, 10_080, { message: () => "withinMinutes must be between 0 and 10080 (a week)" })
  ),
  idleHours: Schema.optionalWith(
    Schema.Number.pipe(Schema.between(0, 8_760, { message: () => "idleHours must be between 0 and 8760 (a year)" })),
    { default: () => 24 }
  ),
  concurrency: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 64)), { default: () => 4 })
}) {}

/**
 * Why the sweep looked at a token set: its access token `expiring`, or the token set `idle`; `fresh`
 * when neither (nothing was done).
 *
 * @since 0.1.0
 */
export const SweepReason = Schema.Literal("expiring", "idle", "fresh")
/** @since 0.1.0 */
export type SweepReason = typeof SweepReason.Type

/**
 * `refreshed`: this sweep obtained a new token set; `current`: nothing was due after all (another
 * caller or process refreshed it meanwhile), no token request; `skipped`: nothing due, or nothing
 * that can be done (an authorization-code token set without a refresh token); `failed`: see `error`.
 *
 * @since 0.1.0
 */
export const SweepOutcome = Schema.Literal("refreshed", "current", "skipped", "failed")
/** @since 0.1.0 */
export type SweepOutcome = typeof SweepOutcome.Type

/**
 * Why one instance's refresh failed. `ReconnectRequired` means the instance is now
 * `reconnect_required`; the driver errors other than `AuthFailed` are transient.
 *
 * @since 0.1.0
 */
export const SweepFailure = Schema.Union(
  ActivityError.ReconnectRequired,
  DriverError.AuthFailed,
  DriverError.Unreachable,
  DriverError.TimedOut,
  DriverError.RateLimited,
  DriverError.ProviderFailure,
  DriverError.RequestRejected,
  DomainError.EgressDenied,
  DomainError.InvalidConfiguration,
  DomainError.CredentialCorrupted,
  DomainError.StorageError
)
/** @since 0.1.0 */
export type SweepFailure = typeof SweepFailure.Type

/**
 * What the sweep did for one instance and scope. `credentialId` and `accessTokenExpiresAt` describe
 * the current version afterwards.
 *
 * @since 0.1.0
 */
export class SweepResult extends Schema.Class<SweepResult>("@patchbay/oauth2/SweepResult")({
  instanceId: Ids.InstanceId,
  instanceName: Schema.String,
  connector: Schema.String,
  scope: CredentialScope.CredentialScope,
  reason: SweepReason,
  outcome: SweepOutcome,
  credentialId: Ids.CredentialId,
  accessTokenExpiresAt: Schema.NullOr(Schema.DateFromSelf),
  detail: Schema.optional(Schema.String),
  error: Schema.optional(SweepFailure)
}) {}

/**
 * The sweep: one result per instance and scope, as they finish.
 *
 * @since 0.1.0
 */
export type Sweep = (
  options: typeof SweepOptions.Encoded
) => Stream.Stream<SweepResult, DomainError.InvalidInput | DomainError.StorageError, Actor.Actor>

/**
 * What the sweep is built on (besides the refresh protocol it runs).
 *
 * @since 0.1.0
 */
export type Requirements =
  | ConnectorInstances.ConnectorInstances
  | CredentialRepository.CredentialRepository
  | Envelope.Envelope

const decodeSweep = Schema.decodeUnknown(SweepOptions, { errors: "all", onExcessProperty: "error" })

type Current = ResolvedCredential.ResolvedCredential

/**
 * Builds the sweep on the refresh protocol.
 *
 * @since 0.1.0
 */
export const make = (protocol: RefreshProtocol): Effect.Effect<Sweep, never, Requirements> =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const repository = yield* CredentialRepository.CredentialRepository
    const envelope = yield* Envelope.Envelope

    /** The organization's enabled OAuth2 instances, page by page. */
    const oauth2Instances = Stream.paginateChunkEffect(undefined as Ids.InstanceId | undefined, (cursor) =>
      instances.list({ limit: 200, ...(cursor === undefined ? {} : { cursor }) }).pipe(
        Effect.catchTags({ InvalidInput: Effect.die, ConnectorNotFound: Effect.die }),
        Effect.map(
          (page) =>
            [
              Chunk.fromIterable(page.items.filter((view) => view.isEnabled && isOAuth2(view))),
              Option.fromNullable(page.nextCursor)
            ] as const
        )
      )
    )

    const sweepOne = (
      instance: ConnectorInstance.ConnectorInstance,
      metadata: Credential.CredentialMetadata,
      settings: SweepOptions,
      nowMillis: number
    ): Effect.Effect<SweepResult> => {
      const base = {
        instanceId: instance.id,
        instanceName: instance.instanceName,
        connector: instance.connectorKey,
        scope: metadata.scope
      }
      return Effect.gen(function* () {
        const owner = ownerOf(instance.orgId, metadata.scope)
        const result = (
          reason: SweepReason,
          outcome: SweepResult["outcome"],
          current: Current,
          extra: { readonly detail?: string; readonly error?: SweepResult["error"] } = {}
        ) => {
          const expiresAt = TokenSet.expiresAtMillis(Redacted.value(current.secrets))
          return SweepResult.make({
            ...base,
            reason,
            outcome,
            credentialId: current.metadata.id,
            accessTokenExpiresAt: expiresAt === undefined ? null : new Date(expiresAt),
            ...extra
          })
        }
        const record = yield* repository.get(instance.orgId, metadata.id)
        if (Option.isNone(record)) {
          return yield* new DomainError.StorageError({ operation: "OAuth2.sweep", detail: "the version disappeared" })
        }
        const seen = yield* CredentialResolver.open(envelope, record.value)
        const windowMillis = settings.withinMinutes * 60_000
        const expiring = dueWithin(windowMillis)(seen, nowMillis)
        const idle = nowMillis - metadata.createdAt.getTime() >= settings.idleHours * 3_600_000
        if (!expiring && !idle) return result("fresh", "skipped", seen)
        const reason: SweepReason = expiring ? "expiring" : "idle"
        if (
          instance.authType === "oauth2_authorization_code" &&
          Secrets.field(seen.secrets, "refresh_token") === undefined
        ) {
          return result(reason, "skipped", seen, {
            detail: "no refresh token was issued; the person must reconnect when the access token expires"
          })
        }
        const due: Due = expiring ? dueWithin(windowMillis) : (current) => current.metadata.id === seen.metadata.id
        const outcome = yield* protocol.run(instance, seen, due).pipe(Effect.provideService(Actor.Actor, owner))
        switch (outcome._tag) {
          case "Refreshed":
            return result(reason, "refreshed", outcome.current)
          case "Current":
            return result(reason, "current", outcome.current)
          case "Transient":
            return result(reason, "failed", outcome.kept, { error: outcome.error })
        }
      }).pipe(
        Effect.catchAll((error) =>
          Effect.succeed(
            SweepResult.make({
              ...base,
              reason: "expiring",
              outcome: "failed",
              credentialId: metadata.id,
              accessTokenExpiresAt: null,
              error
            })
          )
        )
      )
    }

    return (input: typeof SweepOptions.Encoded) =>
      Stream.unwrap(
        Effect.gen(function* () {
          const settings = yield* decodeSweep(input).pipe(
            Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
          )
          const at = yield* Clock.currentTimeMillis
          return oauth2Instances.pipe(
            Stream.mapEffect((view) => Effect.option(instances.getInstance(view.id))),
            Stream.filterMap((found) => found),
            Stream.mapEffect((instance) =>
              Effect.map(repository.list(instance.orgId, instance.id), (versions) => {
                const heads = new Map<string, Credential.CredentialMetadata>()
                for (const version of versions) {
                  if (version.revokedAt !== null || heads.has(version.scope.key)) continue
                  heads.set(version.scope.key, version)
                }
                return [...heads.values()]
                  .filter((v) => v.isValidAt(new Date(at)))
                  .map((metadata) => ({ instance, metadata }))
              })
            ),
            Stream.flattenIterables,
            Stream.mapEffect(({ instance, metadata }) => sweepOne(instance, metadata, settings, at), {
              concurrency: settings.concurrency,
              unordered: true
            })
          )
        })
      ).pipe(Stream.withSpan("OAuth2.sweep"))
  })
