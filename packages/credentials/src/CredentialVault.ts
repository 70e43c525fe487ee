/**
 * The credential vault: stores write-once credential versions (validated against the connector's
 * credential schema, sealed, masked, fingerprinted), lists their metadata, revokes them and lists
 * those about to expire. Plaintext never leaves the vault: every operation returns metadata only.
 *
 * Write rule: an actor may write (create, supersede, revoke) a credential of a scope it belongs to
 * — its organization, its workspace, its own user, its own agent — the same scopes it may use.
 * A workspace-scoped credential of a workspace-level instance must name the instance's workspace.
 *
 * @since 0.1.0
 */
import {
  Actor,
  AuditLog,
  ConnectorInstance,
  ConnectorInstances,
  ConnectorRegistry,
  Credential,
  CredentialRepository,
  CredentialScope,
  DomainError,
  Idempotency,
  Ids,
  InputBounds,
  LifecycleEvents,
  Transactions
} from "@patchbay/core"
import { CredentialIntegrity, Envelope, Fingerprint, Mask } from "@patchbay/crypto"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * No credential version with this id exists in the actor's organization.
 *
 * @since 0.1.0
 */
export class CredentialVersionNotFound extends Schema.TaggedError<CredentialVersionNotFound>(
  "@patchbay/credentials/CredentialVersionNotFound"
)("CredentialVersionNotFound", { credentialId: Schema.String }) {
  readonly retryable = false
  override get message(): string {
    return `No credential ${this.credentialId} exists in this organization`
  }
}

/** A date given as a `Date` or an ISO 8601 string, no later than the end of year 9999. */
const DateInput = InputBounds.DateInput

/**
 * Credential values as input: bounded JSON like configuration, with room for a private key or a
 * service-account document (64 Ki characters a string, 256 Ki in all).
 *
 * @since 0.1.0
 */
export const CredentialValues: Schema.Schema<unknown> = InputBounds.boundedJson({
  ...InputBounds.configurationLimits,
  maxStringLength: 65_536,
  maxSize: 262_144
})

/**
 * Input of `create`: the instance, the scope, the credential values (validated against the
 * connector's credential schema), non-secret labels, an optional expiry in the future, and an
 * optional idempotency key (a retry of the same request returns the first call's version).
 *
 * @since 0.1.0
 */
export class CreateCredential extends Schema.Class<CreateCredential>("@patchbay/credentials/CreateCredential")({
  instanceId: InputBounds.boundedString(64),
  scope: CredentialScope.CredentialScope,
  credentials: CredentialValues,
  labels: Schema.optionalWith(InputBounds.Metadata, { default: () => ({}) }),
  expiresAt: Schema.optionalWith(Schema.NullOr(DateInput), { default: () => null }),
  idempotencyKey: Schema.optional(Idempotency.IdempotencyKey)
}) {}

/**
 * Input of `supersede`: new values for the same instance and scope, written as a new version (an
 * OAuth2 token refresh, a rotated password). Labels default to the previous version's.
 *
 * @since 0.1.0
 */
export interface SupersedeInput {
  readonly credentials: unknown
  readonly expiresAt?: Date | string | null | undefined
  readonly labels?: Readonly<Record<string, unknown>> | undefined
  /** Why a new version replaces the previous one (`token_refresh`, …); audited. */
  readonly reason: string
}

/**
 * Input of `listExpiring`: how many days ahead to look (0–3650, fractional allowed).
 *
 * @since 0.1.0
 */
export class ListExpiring extends Schema.Class<ListExpiring>("@patchbay/credentials/ListExpiring")({
  daysAhead: Schema.Number.pipe(
    Schema.between(0, 3650, { message: () => "daysAhead must be a number of days between 0 and 3650" })
  )
}) {}

/**
 * A credential version that expires soon: which connector, instance and scope, when, and in how many
 * (fractional) days. `kind` says what dies: the credential itself, or the refresh token of an
 * OAuth2 token set (its deadline label), after which only a reconnect helps; `reconnectUrl` is
 * where to reconnect, when the caller knows one (see `OAuth2.listExpiring`).
 *
 * @since 0.1.0
 */
export class ExpiringCredential extends Schema.Class<ExpiringCredential>("@patchbay/credentials/ExpiringCredential")({
  credentialId: Ids.CredentialId,
  connectorKey: Schema.String,
  connectorName: Schema.String,
  instanceId: Ids.InstanceId,
  instanceName: Schema.String,
  scope: CredentialScope.CredentialScope,
  expiresAt: Schema.DateFromSelf,
  daysRemaining: Schema.Number,
  kind: Schema.Literal("credential", "refresh_token"),
  reconnectUrl: Schema.optional(Schema.String)
}) {}

/**
 * Failures of `create` and `supersede`.
 *
 * @since 0.1.0
 */
export type CreateError =
  | DomainError.InvalidInput
  | DomainError.InstanceNotFound
  | DomainError.ConnectorNotFound
  | DomainError.InvalidConfiguration
  | DomainError.ScopeForbidden
  | DomainError.DuplicateAccount
  | DomainError.StorageError

/**
 * @since 0.1.0
 */
export interface CredentialVaultShape {
  /**
   * Stores a new version for an instance and scope; returns its metadata (masked values, never
   * plaintext). Marks the instance as having credentials and records the account fingerprint,
   * failing with `DuplicateAccount` — before anything is written — when another instance of the
   * same connector type in the organization holds the same account. With an `idempotencyKey`, a
   * retry of the same request returns the first call's version, even where the account would now
   * clash; the key with another request fails with `IdempotencyKeyReused`.
   */
  readonly create: {
    (
      input: typeof CreateCredential.Encoded & { readonly idempotencyKey?: undefined }
    ): Effect.Effect<Credential.CredentialMetadata, CreateError, Actor.Actor>
    (
      input: typeof CreateCredential.Encoded
    ): Effect.Effect<Credential.CredentialMetadata, CreateError | DomainError.IdempotencyKeyReused, Actor.Actor>
  }
  /** Stores new values for the instance and scope of `previous` as a new version. */
  readonly supersede: (
    previous: Credential.CredentialMetadata,
    input: SupersedeInput
  ) => Effect.Effect<Credential.CredentialMetadata, CreateError, Actor.Actor>
  /** Every version of an instance, newest first, as metadata. */
  readonly list: (
    instanceId: string
  ) => Effect.Effect<
    ReadonlyArray<Credential.CredentialMetadata>,
    DomainError.InstanceNotFound | DomainError.StorageError,
    Actor.Actor
  >
  /** Revokes a version (idempotent; the first revocation's time stands). */
  readonly revoke: (
    credentialId: string
  ) => Effect.Effect<
    Credential.CredentialMetadata,
    CredentialVersionNotFound | DomainError.ScopeForbidden | DomainError.StorageError,
    Actor.Actor
  >
  /** The organization's current versions that expire within `daysAhead` days, soonest first. */
  readonly listExpiring: (
    query: typeof ListExpiring.Encoded
  ) => Effect.Effect<
    ReadonlyArray<ExpiringCredential>,
    DomainError.InvalidInput | DomainError.StorageError,
    Actor.Actor
  >
}

/**
 * @since 0.1.0
 */
export class CredentialVault extends Context.Tag("@patchbay/credentials/CredentialVault")<
  CredentialVault,
  CredentialVaultShape
>() {}

const decodeCreate = Schema.decodeUnknown(CreateCredential, { errors: "all", onExcessProperty: "error" })
const decodeListExpiring = Schema.decodeUnknown(ListExpiring, { errors: "all", onExcessProperty: "error" })
const isInstanceId = Schema.is(Ids.InstanceId)
const isCredentialId = Schema.is(Ids.CredentialId)
const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))
const dayMillis = 86_400_000
const encoder = new TextEncoder()

/** The operation name under which `create` records idempotency keys. */
const createOperation = "credential.create"

/** Credential metadata as JSON (dates as ISO strings): the result an idempotency key keeps. */
const MetadataJson = Schema.transform(
  Schema.Struct({
    ...Credential.CredentialMetadata.fields,
    expiresAt: Schema.NullOr(Schema.Date),
    revokedAt: Schema.NullOr(Schema.Date),
    createdAt: Schema.Date
  }),
  Schema.typeSchema(Credential.CredentialMetadata),
  {
    strict: true,
    decode: (fields) => Credential.CredentialMetadata.make(fields),
    encode: (metadata) => ({ ...metadata })
  }
)

/**
 * Whether an actor may write credentials of `scope` for `instance` (see the module's write rule).
 *
 * @since 0.1.0
 */
export const mayWrite = (
  actor: Actor.ActorInfo,
  instance: { readonly workspaceId: string | null },
  scope: CredentialScope.CredentialScope
): boolean =>
  CredentialScope.allows(actor, scope) &&
  (scope.type !== "workspace" || instance.workspaceId === null || instance.workspaceId === scope.id)

/**
 * The vault on its ports: `CredentialRepository`, `ConnectorInstances`, `ConnectorRegistry`,
 * `AuditLog`, `Transactions`, and crypto's `Envelope` and `Fingerprint`. A store or revocation,
 * the instance's credential state and fingerprint, and the audit event are one unit of
 * `Transactions`: all written, or none.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<
  CredentialVault,
  never,
  | CredentialRepository.CredentialRepository
  | ConnectorInstances.ConnectorInstances
  | ConnectorRegistry.ConnectorRegistry
  | AuditLog.AuditLog
  | Transactions.Transactions
  | Idempotency.IdempotencyKeys
  | Envelope.Envelope
  | Fingerprint.Fingerprint
  | LifecycleEvents.EventOutbox
> = Layer.effect(
  CredentialVault,
  Effect.gen(function* () {
    const outbox = yield* LifecycleEvents.EventOutbox
    const emit = (input: LifecycleEvents.EventInput) =>
      LifecycleEvents.emit(input).pipe(Effect.provideService(LifecycleEvents.EventOutbox, outbox))
    const repository = yield* CredentialRepository.CredentialRepository
    const instances = yield* ConnectorInstances.ConnectorInstances
    const registry = yield* ConnectorRegistry.ConnectorRegistry
    const audit = yield* AuditLog.AuditLog
    const transactions = yield* Transactions.Transactions
    const keys = yield* Idempotency.IdempotencyKeys
    const envelope = yield* Envelope.Envelope
    const fingerprint = yield* Fingerprint.Fingerprint
    const authenticate = CredentialIntegrity.authenticator(envelope)
    const record = (...args: Parameters<typeof AuditLog.record>) =>
      AuditLog.record(...args).pipe(Effect.provideService(AuditLog.AuditLog, audit))

    const findInstance = (id: string) =>
      isInstanceId(id)
        ? instances.get(id)
        : Effect.fail(new DomainError.InstanceNotFound({ instanceId: InputBounds.idText(id) }))

    /** Brings the instance's `has_credentials` and account fingerprint in line with its newest unrevoked version. */
    const syncInstance = (instanceId: Ids.InstanceId) =>
      Effect.gen(function* () {
        const actor = yield* Actor.Actor
        const versions = yield* repository.list(actor.orgId, instanceId)
        const current = versions.find((v) => v.revokedAt === null)
        const state = { hasCredentials: current !== undefined, accountFingerprint: current?.accountFingerprint ?? null }
        yield* instances.setCredentialState(instanceId, state).pipe(
          Effect.catchTag("DuplicateAccount", () =>
            // A null fingerprint never clashes.
            instances
              .setCredentialState(instanceId, { ...state, accountFingerprint: null })
              .pipe(Effect.catchTag("DuplicateAccount", Effect.die))
          )
        )
      }).pipe(Effect.catchTag("InstanceNotFound", () => Effect.void))

    const store = (
      input: unknown,
      audited: { readonly action: string; readonly details: Record<string, unknown> }
    ): Effect.Effect<Credential.CredentialMetadata, CreateError | DomainError.IdempotencyKeyReused, Actor.Actor> =>
      Effect.gen(function* () {
        const actor = yield* Actor.Actor
        const request = yield* decodeCreate(input).pipe(
          Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
        )
        const instance = yield* findInstance(request.instanceId)
        if (!mayWrite(actor, instance, request.scope)) {
          return yield* new DomainError.ScopeForbidden({ scope: request.scope.key })
        }
        const at = yield* now
        if (request.expiresAt !== null && request.expiresAt.getTime() <= at.getTime()) {
          return yield* new DomainError.InvalidInput({ detail: "expiresAt must lie in the future" })
        }
        const { descriptor } = yield* registry.get(instance.connectorId)
        const encoded = yield* ConnectorRegistry.validateCredentials(descriptor, request.credentials)
        const plaintext = yield* Effect.try({
          try: () => encoder.encode(JSON.stringify(encoded)),
          catch: () =>
            new DomainError.InvalidConfiguration({
              connector: descriptor.key,
              detail: "credentials must encode to JSON values"
            })
        })
        const secret = Redacted.make<Readonly<Record<string, unknown>>>(encoded)
        // An OAuth2 token set that does not say who signed in (stored by hand) names an unknown
        // account: never the base URL alone, which every account of the provider shares.
        const accountFingerprint = yield* fingerprint.account(descriptor, {
          configuration: instance.configuration,
          credentials: instance.authType.startsWith("oauth2_")
            ? Redacted.make({ [Fingerprint.accountIdentityField]: null, ...encoded })
            : secret
        })
        const masked = Mask.mask(descriptor, secret)
        const id = yield* Ids.make(Ids.CredentialId)
        const sealed = yield* envelope.seal(
          Redacted.make(plaintext),
          Envelope.aadOf({
            id,
            orgId: actor.orgId,
            instanceId: instance.id,
            scope: request.scope,
            expiresAt: request.expiresAt,
            createdAt: at
          })
        )
        plaintext.fill(0)
        // The request as the idempotency key's fingerprint sees it: the values only as a keyed hash
        // (the fingerprint key's HMAC) of their canonical JSON, in base64url so that no normalisation applies.
        const values = yield* fingerprint.account(
          { ...descriptor, accountFields: ["values"] },
          {
            configuration: {},
            credentials: Redacted.make({ values: Encoding.encodeBase64Url(Idempotency.canonicalJson(encoded)) })
          }
        )
        const requestFingerprint = Idempotency.fingerprint(createOperation, {
          actor: { workspaceId: actor.workspaceId, userId: actor.userId, agentId: actor.agentId },
          instanceId: instance.id,
          scope: { type: request.scope.type, id: request.scope.id },
          labels: request.labels,
          expiresAt: request.expiresAt,
          values
        })

        // One unit: the idempotency key, the clash check (a DuplicateAccount writes nothing), the
        // version, the audit event.
        const idempotent = Idempotency.once(keys, {
          orgId: actor.orgId,
          operation: createOperation,
          key: request.idempotencyKey,
          fingerprint: requestFingerprint,
          at,
          result: MetadataJson
        })
        return yield* transactions.run(
          Effect.gen(function* () {
            yield* instances.setCredentialState(instance.id, { hasCredentials: true, accountFingerprint })
            const stored = yield* repository.insert({
              metadata: {
                id,
                orgId: actor.orgId,
                instanceId: instance.id,
                scope: request.scope,
                labels: request.labels,
                masked,
                accountFingerprint,
                expiresAt: request.expiresAt,
                revokedAt: null,
                createdAt: at
              },
              sealed,
              authenticate
            })
            const metadata = stored.metadata
            yield* record(audited.action, {
              instanceId: instance.id,
              details: {
                ...audited.details,
                credentialId: metadata.id,
                version: metadata.version,
                scope: metadata.scope.key,
                connector: descriptor.key,
                fields: Object.keys(masked),
                labels: Object.keys(metadata.labels),
                expiresAt: metadata.expiresAt?.toISOString() ?? null
              }
            })
            const previousId = audited.details.previousId
            yield* emit({
              _tag: "credential.stored",
              orgId: metadata.orgId,
              instanceId: instance.id,
              connectorKey: descriptor.key,
              credentialId: metadata.id,
              version: metadata.version,
              previousId: isCredentialId(previousId) ? previousId : null
            })
            return metadata
          }).pipe(idempotent)
        )
      })

    const create = Effect.fn("CredentialVault.create")(function* (input: typeof CreateCredential.Encoded) {
      return yield* store(input, { action: "credential.created", details: {} })
    }) as CredentialVaultShape["create"]

    const supersede = Effect.fn("CredentialVault.supersede")(function* (
      previous: Credential.CredentialMetadata,
      input: SupersedeInput
    ) {
      return yield* store(
        {
          instanceId: previous.instanceId,
          scope: { type: previous.scope.type, id: previous.scope.id },
          credentials: input.credentials,
          labels: input.labels ?? previous.labels,
          expiresAt: input.expiresAt ?? null
        },
        { action: "credential.superseded", details: { previousId: previous.id, reason: input.reason } }
      ).pipe(Effect.catchTag("IdempotencyKeyReused", Effect.die))
    })

    const list = Effect.fn("CredentialVault.list")(function* (instanceId: string) {
      const actor = yield* Actor.Actor
      const instance = yield* findInstance(instanceId)
      const versions = yield* repository.list(actor.orgId, instance.id)
      // Only versions the actor may use or administer: never another user's or agent's.
      return versions.filter((version) => CredentialScope.listableBy(actor, version.scope))
    })

    const revoke = Effect.fn("CredentialVault.revoke")(function* (credentialId: string) {
      const actor = yield* Actor.Actor
      const found = isCredentialId(credentialId) ? yield* repository.get(actor.orgId, credentialId) : Option.none()
      if (Option.isNone(found))
        return yield* new CredentialVersionNotFound({ credentialId: InputBounds.idText(credentialId) })
      const metadata = found.value.metadata
      const instance = yield* instances.get(metadata.instanceId).pipe(
        Effect.map(Option.some),
        Effect.catchTag("InstanceNotFound", () => Effect.succeed(Option.none()))
      )
      // A version of an instance the actor does not see, or of a scope it may not list, does not exist for it.
      if (Option.isNone(instance) || !CredentialScope.listableBy(actor, metadata.scope)) {
        return yield* new CredentialVersionNotFound({ credentialId: InputBounds.idText(credentialId) })
      }
      if (!mayWrite(actor, instance.value, metadata.scope)) {
        return yield* new DomainError.ScopeForbidden({ scope: metadata.scope.key })
      }
      if (metadata.revokedAt !== null) return metadata
      const at = yield* now
      return yield* transactions.run(
        Effect.gen(function* () {
          const revoked = yield* repository.revoke(actor.orgId, metadata.id, at, authenticate)
          if (Option.isNone(revoked))
            return yield* new CredentialVersionNotFound({ credentialId: InputBounds.idText(credentialId) })
          yield* syncInstance(metadata.instanceId)
          yield* record("credential.revoked", {
            instanceId: metadata.instanceId,
            details: { credentialId: metadata.id, version: metadata.version, scope: metadata.scope.key }
          })
          yield* emit({
            _tag: "credential.revoked",
            orgId: metadata.orgId,
            instanceId: metadata.instanceId,
            connectorKey: instance.value.connectorKey,
            credentialId: metadata.id,
            version: metadata.version
          })
          return revoked.value
        })
      )
    })

    const listExpiring = Effect.fn("CredentialVault.listExpiring")(function* (query: typeof ListExpiring.Encoded) {
      const actor = yield* Actor.Actor
      const { daysAhead } = yield* decodeListExpiring(query).pipe(
        Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
      )
      const at = yield* now
      const rows = yield* repository.listExpiring(actor.orgId, at, new Date(at.getTime() + daysAhead * dayMillis))
      const views = new Map<string, Option.Option<ConnectorInstance.InstanceView>>()
      const items: Array<ExpiringCredential> = []
      for (const row of rows) {
        if (!views.has(row.instanceId)) {
          views.set(
            row.instanceId,
            yield* instances.get(row.instanceId).pipe(
              Effect.map(Option.some),
              Effect.catchTag("InstanceNotFound", () => Effect.succeed(Option.none()))
            )
          )
        }
        const view = views.get(row.instanceId)!
        if (Option.isNone(view) || !CredentialScope.listableBy(actor, row.scope)) continue
        const connector = yield* Effect.option(registry.get(view.value.connectorId))
        const until = at.getTime() + daysAhead * dayMillis
        const deadlines = [
          { kind: "credential" as const, expiresAt: row.expiresAt },
          { kind: "refresh_token" as const, expiresAt: Credential.refreshTokenDeadline(row.labels) }
        ]
        for (const { kind, expiresAt } of deadlines) {
          if (expiresAt === null || expiresAt.getTime() <= at.getTime() || expiresAt.getTime() > until) continue
          items.push(
            ExpiringCredential.make({
              credentialId: row.id,
              connectorKey: view.value.connectorKey,
              connectorName: Option.match(connector, {
                onNone: () => view.value.connectorKey,
                onSome: (c) => c.descriptor.name
              }),
              instanceId: row.instanceId,
              instanceName: view.value.instanceName,
              scope: row.scope,
              expiresAt,
              daysRemaining: (expiresAt.getTime() - at.getTime()) / dayMillis,
              kind
            })
          )
        }
      }
      return items.sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
    })

    return CredentialVault.of({ create, supersede, list, revoke, listExpiring })
  })
)
