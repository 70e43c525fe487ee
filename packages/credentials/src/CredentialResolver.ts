/**
 * The credential resolver: for the current actor and an instance, the credential to use, decrypted
 * and wrapped whole in `Redacted`. Scopes are tried in precedence order (`CredentialScope.forActor`:
 * a person user → workspace → organization, an agent agent → workspace → organization, its user
 * only when it acts on behalf of that user); a workspace's instance resolves only for actors of that
 * workspace (`ScopeForbidden` otherwise); in a scope, the newest version that is neither expired nor revoked wins. Every
 * resolution passes through the `CredentialRefresher` the layer requires.
 *
 * @since 0.1.0
 */
import {
  Actor,
  type ConnectorInstance,
  type Credential,
  CredentialRepository,
  CredentialScope,
  DomainError,
  PatchbayMetrics,
  type ResolvedCredential
} from "@patchbay/core"
import { CredentialIntegrity, Envelope } from "@patchbay/crypto"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { CredentialRefresher, type RefreshError } from "./CredentialRefresher.js"

/**
 * Options of `resolve`: an explicit scope (a connection test's `scope_type` and `scope_id`), used
 * only if the actor belongs to it.
 *
 * @since 0.1.0
 */
export interface ResolveOptions {
  readonly scope?: typeof CredentialScope.CredentialScope.Encoded | undefined
}

/**
 * Failures of `resolve`. `CredentialNotFound` and `CredentialExpired` are what the activity layer
 * turns into `ReconnectRequired`.
 *
 * @since 0.1.0
 */
export type ResolveError =
  | DomainError.InstanceNotFound
  | DomainError.InvalidInput
  | DomainError.ScopeForbidden
  | DomainError.CredentialNotFound
  | DomainError.CredentialExpired
  | DomainError.CredentialCorrupted
  | DomainError.StorageError
  | RefreshError

/**
 * @since 0.1.0
 */
export interface CredentialResolverShape {
  readonly resolve: (
    instance: ConnectorInstance.ConnectorInstance,
    options?: ResolveOptions
  ) => Effect.Effect<ResolvedCredential.ResolvedCredential, ResolveError, Actor.Actor>
}

/**
 * @since 0.1.0
 */
export class CredentialResolver extends Context.Tag("@patchbay/credentials/CredentialResolver")<
  CredentialResolver,
  CredentialResolverShape
>() {}

const decodeScope = Schema.decodeUnknown(CredentialScope.CredentialScope)
const decoder = new TextDecoder("utf-8", { fatal: true })

const parseSecrets = (
  credentialId: string,
  plaintext: Redacted.Redacted<Uint8Array>
): Effect.Effect<Redacted.Redacted<Readonly<Record<string, unknown>>>, DomainError.CredentialCorrupted> => {
  const bytes = Redacted.value(plaintext)
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes))
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return Effect.succeed(Redacted.make(value as Readonly<Record<string, unknown>>))
    }
  } catch {
    // falls through: not JSON
  } finally {
    bytes.fill(0)
  }
  return Effect.fail(new DomainError.CredentialCorrupted({ credentialId, detail: "the payload is not a credential" }))
}

/** Decrypts a version whose state was checked, and parses the plaintext (wiped once parsed). */
const decrypt = (
  envelope: Envelope.EnvelopeShape,
  record: Credential.CredentialRecord
): Effect.Effect<ResolvedCredential.ResolvedCredential, DomainError.CredentialCorrupted> =>
  Effect.flatMap(envelope.open(record.sealed, Envelope.aadOf(record.metadata)), (plaintext) =>
    Effect.map(parseSecrets(record.metadata.id, plaintext), (secrets) => ({ metadata: record.metadata, secrets }))
  )

/**
 * Opens a stored version: checks its state MAC (`CredentialIntegrity.verify`), decrypts it (its
 * AAD binds it to its own row) and parses the plaintext, which is wiped once parsed. For code that
 * reads versions itself, as OAuth2 refresh does under its lock.
 *
 * @since 0.1.0
 */
export const open = (
  envelope: Envelope.EnvelopeShape,
  record: Credential.CredentialRecord
): Effect.Effect<ResolvedCredential.ResolvedCredential, DomainError.CredentialCorrupted> =>
  Effect.zipRight(CredentialIntegrity.verify(envelope, record), decrypt(envelope, record))

/** An actor's scopes, computed once per actor value (hosts provide one per request or run). */
const actorScopes = new WeakMap<Actor.ActorInfo, ReadonlyArray<CredentialScope.CredentialScope>>()
const scopesOf = (actor: Actor.ActorInfo): ReadonlyArray<CredentialScope.CredentialScope> => {
  let scopes = actorScopes.get(actor)
  if (scopes === undefined) {
    scopes = CredentialScope.forActor(actor)
    actorScopes.set(actor, scopes)
  }
  return scopes
}

/**
 * The resolver on `CredentialRepository`, crypto's `Envelope` and a `CredentialRefresher`
 * (`OAuth2.layer` from `@patchbay/oauth2`, or `CredentialRefresher.layerNone` without OAuth2).
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<
  CredentialResolver,
  never,
  CredentialRepository.CredentialRepository | Envelope.Envelope | CredentialRefresher
> = Layer.effect(
  CredentialResolver,
  Effect.gen(function* () {
    const repository = yield* CredentialRepository.CredentialRepository
    const envelope = yield* Envelope.Envelope
    const refresher = yield* CredentialRefresher

    /** Why nothing valid was found: an expired version in the candidate scopes, or none at all. */
    const missing = (
      actor: Actor.ActorInfo,
      instance: ConnectorInstance.ConnectorInstance,
      scopes: ReadonlyArray<CredentialScope.CredentialScope>
    ) =>
      Effect.gen(function* () {
        const versions = yield* repository.list(actor.orgId, instance.id)
        for (const scope of scopes) {
          const expired = versions.find(
            (v) =>
              v.scope.type === scope.type && v.scope.id === scope.id && v.revokedAt === null && v.expiresAt !== null
          )
          if (expired !== undefined) {
            return yield* new DomainError.CredentialExpired({
              instanceId: instance.id,
              credentialId: expired.id,
              expiredAt: expired.expiresAt!
            })
          }
        }
        return yield* new DomainError.CredentialNotFound({
          instanceId: instance.id,
          scopes: scopes.map((scope) => scope.key)
        })
      })

    const resolveUntraced = Effect.fnUntraced(function* (
      instance: ConnectorInstance.ConnectorInstance,
      options?: ResolveOptions
    ) {
      const actor = yield* Actor.Actor
      if (instance.orgId !== actor.orgId) return yield* new DomainError.InstanceNotFound({ instanceId: instance.id })
      if (!CredentialScope.usableBy(actor, instance)) {
        // A workspace's instance is used only inside that workspace.
        return yield* new DomainError.ScopeForbidden({ scope: `workspace:${instance.workspaceId}` })
      }
      let scopes: ReadonlyArray<CredentialScope.CredentialScope>
      if (options?.scope === undefined) {
        scopes = scopesOf(actor)
      } else {
        const scope = yield* decodeScope(options.scope).pipe(
          Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error, "scope"))
        )
        if (!CredentialScope.allows(actor, scope)) return yield* new DomainError.ScopeForbidden({ scope: scope.key })
        scopes = [scope]
      }
      const now = new Date(yield* Clock.currentTimeMillis)
      const found = yield* repository.newestValid(actor.orgId, instance.id, scopes, now)
      if (Option.isNone(found)) {
        const obtained = yield* refresher.obtain(instance)
        if (Option.isSome(obtained) && scopes.some((scope) => scope.key === obtained.value.metadata.scope.key)) {
          return obtained.value
        }
        return yield* missing(actor, instance, scopes)
      }
      const { metadata } = found.value
      if (metadata.instanceId !== instance.id || metadata.orgId !== actor.orgId) {
        return yield* new DomainError.CredentialCorrupted({
          credentialId: metadata.id,
          detail: "the store returned a version of another instance"
        })
      }
      // Its state, and that every later version of its scope is legitimately unusable, are checked
      // before it is decrypted (stored metadata is authenticated).
      yield* CredentialIntegrity.verifyCurrent(envelope, repository, found.value, now)
      return yield* refresher.refresh(instance, yield* decrypt(envelope, found.value))
    })

    // The hot path has no span of its own: on effect's tracer one costs about a third of a
    // memory-store resolve, which sits just under its 25 µs target (bench/src/suites/spans.ts,
    // docs/observability.md). Its outcome shows in the caller's span (`Connection.open`) and in
    // the counter, one update per call.
    const resolve = (instance: ConnectorInstance.ConnectorInstance, options?: ResolveOptions) =>
      Effect.tapBoth(resolveUntraced(instance, options), {
        onFailure: (error) => PatchbayMetrics.recordResolve(instance.connectorKey, error._tag),
        onSuccess: () => PatchbayMetrics.recordResolve(instance.connectorKey, "resolved")
      })

    return CredentialResolver.of({ resolve })
  })
)
