/**
 * What the webhook tests share: a database-like connector whose credential has a secret field, an
 * actor per organization, and the events of one instance's life (created, a credential stored and
 * revoked).
 */
import { Actor, type ConnectorDescriptor, ConnectorDriver, ConnectorInstances, Ids } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Effect, Layer, Schema } from "effect"

export const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000eb"),
  key: "hooked-db",
  name: "A database with webhooks",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ host: Schema.String }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
  secretFields: ["password"],
  accountFields: ["host", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

export const connector = ConnectorDriver.make(descriptor, {
  test: () => Effect.succeed("ok"),
  healthCheck: () => Effect.void
})

/** The credential value and configuration value no event may carry. */
export const password = "credential-value-c0rrect-h0rse"
export const configuredHost = "db.internal.example"

/** Runs an effect as an actor of `orgId`. */
export const as =
  (orgId: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Actor.Actor>> =>
    Effect.provide(effect, Layer.succeed(Actor.Actor, Schema.decodeSync(Actor.ActorInfo)({ orgId })))

/** Creates an instance named `name`, stores a credential for it and revokes it: three events. */
export const lifeOfAnInstance = (orgId: string, name: string) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const instance = yield* instances.create({
      connector: descriptor.key,
      instanceName: name,
      configuration: { host: configuredHost }
    })
    const stored = yield* vault.create({
      instanceId: instance.id,
      scope: { type: "organization", id: orgId },
      credentials: { username: `user-${name}`, password }
    })
    yield* vault.revoke(stored.id)
    return instance.id
  }).pipe(as(orgId))
