/**
 * Pending OAuth2 authorizations: what `startAuthorization` must remember until the callback
 * (the PKCE verifier, sealed; the scope; the redirect URI), keyed by the `state` parameter and
 * usable once.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { SealedSecret } from "./Credential.js"
import { CredentialScope } from "./CredentialScope.js"
import type { StorageError } from "./DomainError.js"
import { InstanceId, OrgId } from "./Ids.js"
import * as Journal from "./internal/journal.js"

/**
 * One pending authorization. `stateHash` is a hash of the state parameter, never the state itself;
 * `sealed` holds the PKCE code verifier.
 *
 * @since 0.1.0
 */
export class PendingAuthorization extends Schema.Class<PendingAuthorization>("@patchbay/core/PendingAuthorization")({
  stateHash: Schema.String,
  orgId: OrgId,
  instanceId: InstanceId,
  scope: CredentialScope,
  redirectUri: Schema.String,
  sealed: SealedSecret,
  createdAt: Schema.DateFromSelf,
  expiresAt: Schema.DateFromSelf
}) {}

/**
 * @since 0.1.0
 */
export interface PendingAuthorizationRepositoryShape {
  readonly insert: (pending: PendingAuthorization) => Effect.Effect<void, StorageError>
  /** Removes and returns the authorization for a state hash if it has not expired at `now`: a state works once. */
  readonly take: (stateHash: string, now: Date) => Effect.Effect<Option.Option<PendingAuthorization>, StorageError>
  /** Deletes the authorizations expired at `now`; how many. */
  readonly purgeExpired: (now: Date) => Effect.Effect<number, StorageError>
}

/**
 * @since 0.1.0
 */
export class PendingAuthorizationRepository extends Context.Tag("@patchbay/core/PendingAuthorizationRepository")<
  PendingAuthorizationRepository,
  PendingAuthorizationRepositoryShape
>() {}

/**
 * An in-memory repository.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<PendingAuthorizationRepository> = Layer.sync(
  PendingAuthorizationRepository,
  () => {
    const rows = new Map<string, PendingAuthorization>()
    /** Puts a row back as it was (absent: removed), for the undo journal of `Transactions`. */
    const restore = (stateHash: string, previous: PendingAuthorization | undefined) => () =>
      void (previous === undefined ? rows.delete(stateHash) : rows.set(stateHash, previous))
    return PendingAuthorizationRepository.of({
      insert: (pending) =>
        Journal.mutate((onRollback) => {
          onRollback(restore(pending.stateHash, rows.get(pending.stateHash)))
          rows.set(pending.stateHash, pending)
          return Effect.void
        }),
      take: (stateHash, now) =>
        Journal.mutate((onRollback) => {
          const found = rows.get(stateHash)
          onRollback(restore(stateHash, found))
          rows.delete(stateHash)
          return Effect.succeed(
            Option.fromNullable(found).pipe(Option.filter((p) => p.expiresAt.getTime() > now.getTime()))
          )
        }),
      purgeExpired: (now) =>
        Journal.mutate((onRollback) => {
          let purged = 0
          for (const [key, pending] of rows) {
            if (pending.expiresAt.getTime() <= now.getTime()) {
              onRollback(restore(key, pending))
              purged += Number(rows.delete(key))
            }
          }
          return Effect.succeed(purged)
        })
    })
  }
)
