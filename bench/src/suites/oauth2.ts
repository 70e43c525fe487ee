import {
  Actor,
  AuditLog,
  ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  EgressPolicy,
  Ids,
  InstanceRepository,
  PendingAuthorizationRepository,
  RefreshLock,
  Transactions
} from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { OAuth2, OAuth2Clients } from "@patchbay/oauth2"
import { Effect, Layer, ManagedRuntime, Redacted, Runtime, Schema } from "effect"
import { median, ratioRow, type Suite } from "../harness.js"

/** One descriptor for both instances, so both resolve the same payload: only the auth type differs. */
const connector = ConnectorDriver.make(
  {
    id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000b2"),
    key: "bench-oauth",
    name: "Bench OAuth API",
    version: "1.0.0",
    authProfiles: ["oauth2_authorization_code", "bearer"],
    operations: ["test_connection"],
    configuration: Schema.Struct({}),
    credentials: Schema.Struct({
      access_token: Schema.Redacted(Schema.String),
      token_type: Schema.String,
      refresh_token: Schema.Redacted(Schema.String),
      expires_at: Schema.Number,
      scope: Schema.String
    }),
    secretFields: ["access_token", "refresh_token"],
    accountFields: [],
    supportsSchemaDiscovery: false
  },
  { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void }
)

const orgId = "0190a000-0000-7000-8000-00000000000a"
const actor = Actor.ActorInfo.make({ orgId: Ids.OrgId.make(orgId) })

const layer = () => {
  const ports = Layer.mergeAll(
    CredentialRepository.layerMemory,
    InstanceRepository.layerMemory,
    AuditLog.layerMemory,
    PendingAuthorizationRepository.layerMemory,
    RefreshLock.layerMemory,
    ConnectorRegistry.layer([connector]),
    Transactions.layerMemory
  )
  const crypto = Layer.mergeAll(
    Envelope.layer.pipe(Layer.provideMerge(Keyring.layerEphemeral())),
    Fingerprint.layerEphemeral
  )
  const base = CredentialVault.layer.pipe(
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(Layer.mergeAll(ports, crypto))
  )
  // The authorization server is never contacted: the token is fresh.
  const clients = OAuth2Clients.layer({
    connectors: { "bench-oauth": { tokenEndpoint: "https://auth.invalid/token", clientId: "bench", clientSecret: "x" } }
  })
  return OAuth2.layerWithResolver().pipe(
    Layer.provideMerge(base),
    Layer.provide(Layer.merge(clients, EgressPolicy.layer()))
  )
}

/**
 * `CredentialResolver.resolve` of an OAuth2 instance whose access token is fresh, against the same
 * payload on a non-OAuth2 instance, both on memory layers with the refresher installed: the hot path
 * adds a clock read and a comparison, no token request and no I/O.
 */
const suite: Suite = {
  name: "OAuth2: resolving a fresh token (memory store)",
  run: async () => {
    const runtime = ManagedRuntime.make(layer())
    const rt = await runtime.runtime()
    const setup = Effect.gen(function* () {
      const instances = yield* ConnectorInstances.ConnectorInstances
      const vault = yield* CredentialVault.CredentialVault
      const tokens = {
        access_token: "a".repeat(64),
        token_type: "bearer",
        refresh_token: "r".repeat(64),
        expires_at: Math.floor(Date.now() / 1000) + 365 * 86_400,
        scope: "openid offline_access"
      }
      const make = (name: string, authType: "oauth2_authorization_code" | "bearer") =>
        Effect.gen(function* () {
          const view = yield* instances.create({ connector: "bench-oauth", instanceName: name, authType })
          yield* vault.create({
            instanceId: view.id,
            scope: { type: "organization", id: orgId },
            credentials: tokens
          })
          return yield* instances.getUsable(view.id)
        })
      return { oauth2: yield* make("oauth2", "oauth2_authorization_code"), plain: yield* make("plain", "bearer") }
    }).pipe(Effect.provideService(Actor.Actor, actor))
    const targets = await Runtime.runPromise(rt)(setup)
    const resolver = Runtime.runSync(rt)(CredentialResolver.CredentialResolver)
    const run = Runtime.runSync(rt)
    const oauth2 = Effect.provideService(resolver.resolve(targets.oauth2), Actor.Actor, actor)
    const plain = Effect.provideService(resolver.resolve(targets.plain), Actor.Actor, actor)
    const first = run(oauth2)
    if (first.metadata.version !== 1 || Redacted.value(first.secrets).access_token !== "a".repeat(64)) {
      throw new Error("the fresh token was refreshed")
    }

    // Interleaved, lower of two medians each: the machine is shared.
    const baselineA = await median(() => run(plain))
    const subjectA = await median(() => run(oauth2))
    const baselineB = await median(() => run(plain))
    const subjectB = await median(() => run(oauth2))
    const rows = [
      ratioRow(
        "resolve (OAuth2, fresh token)",
        Math.min(subjectA, subjectB),
        { name: "resolve (same payload, bearer)", median: Math.min(baselineA, baselineB) },
        1.1
      )
    ]
    if (run(oauth2).metadata.version !== 1) throw new Error("a token request happened on the hot path")
    await runtime.dispose()
    return rows
  }
}
export default suite
