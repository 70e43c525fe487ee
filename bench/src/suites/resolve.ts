import { Actor, ConnectorDriver, ConnectorInstances, Ids } from "@patchbay/core"
import { CredentialResolver, Credentials, CredentialVault } from "@patchbay/credentials"
import { Effect, ManagedRuntime, Redacted, Runtime, Schema } from "effect"
import { limitRow, median, type Suite } from "../harness.js"

const connector = ConnectorDriver.make(
  {
    id: Ids.ConnectorId.make("00000000-0000-4000-8000-000000000001"),
    key: "bench-db",
    name: "Bench database",
    version: "1.0.0",
    authProfiles: ["database_password"],
    operations: ["test_connection"],
    configuration: Schema.Struct({ host: Schema.String, database: Schema.String }),
    credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
    secretFields: ["password"],
    accountFields: ["host", "database", "username"],
    supportsSchemaDiscovery: false
  },
  { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void }
)

const orgId = "0190a000-0000-7000-8000-00000000000a"
const workspaceId = "0190a000-0000-7000-8000-0000000000a1"
const userId = "0190a000-0000-7000-8000-0000000000c1"
const agentId = "0190a000-0000-7000-8000-0000000000d1"

const actorInfo = (info: typeof Actor.ActorInfo.Encoded) => Schema.decodeSync(Actor.ActorInfo)(info)

/**
 * `CredentialResolver.resolve` on a warm in-memory store (100 instances, 3 versions each): the
 * store lookup, two AES-256-GCM decryptions, JSON parsing and the span.
 */
const suite: Suite = {
  name: "CredentialResolver.resolve (memory store)",
  run: async () => {
    const runtime = ManagedRuntime.make(Credentials.layerMemory([connector]))
    const rt = await runtime.runtime()
    const setup = Effect.gen(function* () {
      const instances = yield* ConnectorInstances.ConnectorInstances
      const vault = yield* CredentialVault.CredentialVault
      const created = []
      for (let i = 0; i < 100; i++) {
        const view = yield* instances.create({
          connector: "bench-db",
          instanceName: `db ${i}`,
          configuration: { host: `db${i}.internal`, database: "analytics" }
        })
        for (let v = 0; v < 3; v++) {
          yield* vault.create({
            instanceId: view.id,
            scope: { type: "organization", id: orgId },
            credentials: { username: "reader", password: `password-${i}-${v}` }
          })
        }
        created.push(yield* instances.getUsable(view.id))
      }
      return created
    }).pipe(Effect.provideService(Actor.Actor, actorInfo({ orgId, workspaceId, userId })))
    const instances = await Runtime.runPromise(rt)(setup)
    const target = instances[57]!
    const resolver = Runtime.runSync(rt)(CredentialResolver.CredentialResolver)
    const byUser = Effect.provideService(
      resolver.resolve(target),
      Actor.Actor,
      actorInfo({ orgId, workspaceId, userId })
    )
    const byAgent = Effect.provideService(
      resolver.resolve(target),
      Actor.Actor,
      actorInfo({ orgId, workspaceId, userId, agentId })
    )
    const run = Runtime.runSync(rt)
    if (Redacted.value(run(byUser).secrets).password !== "password-57-2") throw new Error("wrong version resolved")

    // The lower of two medians: the machine is shared, and a burst of load should not decide.
    const best = async (fn: () => unknown) => Math.min(await median(fn), await median(fn))
    const rows = [
      limitRow("resolve (user actor, org credential)", await best(() => run(byUser)), 25_000),
      limitRow("resolve (agent actor: 4 scopes walked)", await best(() => run(byAgent)), 25_000)
    ]
    await runtime.dispose()
    return rows
  }
}
export default suite
