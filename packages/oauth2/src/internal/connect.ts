import { type Actor, type ConnectorInstance, CredentialScope, DomainError } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** The credential scope a connection is stored in: the one asked for, else the actor's organization. */
export const scopeFor = (actor: Actor.ActorInfo, given: CredentialScope.CredentialScope | undefined) =>
  given ?? CredentialScope.CredentialScope.make({ type: "organization", id: actor.orgId })

/** The vault's write rule, checked before anything is sent to the authorization server. */
export const checkWrite = (
  actor: Actor.ActorInfo,
  instance: ConnectorInstance.ConnectorInstance,
  scope: CredentialScope.CredentialScope
) =>
  CredentialVault.mayWrite(actor, instance, scope)
    ? Effect.void
    : Effect.fail(new DomainError.ScopeForbidden({ scope: scope.key }))

/** The instance uses the flow being started. */
export const requireAuthType = (instance: ConnectorInstance.ConnectorInstance, authType: string) =>
  instance.authType === authType
    ? Effect.void
    : Effect.fail(
        new DomainError.InvalidConfiguration({
          connector: instance.connectorKey,
          detail: `instance "${instance.instanceName}" uses ${instance.authType}, not ${authType}`
        })
      )

/** The clock as a `Date`. */
export const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))
