/**
 * One writer of the crash test (crash.test.ts): composes ConnectorInstances and CredentialVault on
 * `layerPg`, prints "ready", waits for "go" on stdin, then creates an instance and stores a
 * credential for it, over and over, until "stop" arrives or `ROUNDS` rounds are done. Each call's
 * outcome goes to stdout as one JSON line, as the caller was told it: success with the id, or the
 * failure's tag. "done" ends the output.
 */
import { createInterface } from "node:readline"
import {
  Actor,
  type ConnectorDescriptor,
  ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  Ids
} from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { Cause, Effect, Exit, Layer, Option, Redacted, Schema } from "effect"
import { SqlStore } from "../../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-00000000c4a5"),
  key: "crash-db",
  name: "Crash test database",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ host: Schema.String }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
  secretFields: ["password"],
  accountFields: ["host", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const connector = ConnectorDriver.make(descriptor, { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void })

const stack = () => {
  const ports = Layer.mergeAll(
    SqlStore.layerPg({
      url: Redacted.make(env("DATABASE_URL")),
      maxConnections: 2,
      migrate: false
    }),
    ConnectorRegistry.layer([connector])
  )
  const crypto = Layer.mergeAll(
    Envelope.layer.pipe(
      Layer.provideMerge(Keyring.layer({ keys: [{ id: "k1", key: Redacted.make(env("KEY")) }], primary: "k1" }))
    ),
    Fingerprint.layer({ key: Redacted.make(env("FINGERPRINT_KEY")) })
  )
  return CredentialVault.layer.pipe(
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(Layer.mergeAll(ports, crypto))
  )
}

const say = (line: unknown) => Effect.sync(() => void process.stdout.write(`${JSON.stringify(line)}\n`))

/** The failure's tag, as the caller sees it (a defect is reported as such). */
const told = <A, E extends { readonly _tag: string }>(exit: Exit.Exit<A, E>) =>
  Exit.isSuccess(exit)
    ? undefined
    : Option.match(Cause.failureOption(exit.cause), { onNone: () => "defect", onSome: (e) => e._tag })

let going: () => void = () => {}
const started = new Promise<void>((resolve) => {
  going = resolve
})
let stopped = false
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "go") going()
  if (line.trim() === "stop") stopped = true
})

const child = env("CHILD")
const rounds = Number(env("ROUNDS"))

const program = Effect.gen(function* () {
  const instances = yield* ConnectorInstances.ConnectorInstances
  const vault = yield* CredentialVault.CredentialVault
  yield* say("ready")
  yield* Effect.promise(() => started)
  for (let i = 0; i < rounds && !stopped; i++) {
    const name = `p${child}-${i}`
    const created = yield* Effect.exit(
      instances.create({ connector: "crash-db", instanceName: name, configuration: { host: "db" } })
    )
    yield* say({ op: "instance", name, id: Exit.isSuccess(created) ? created.value.id : null, error: told(created) })
    if (Exit.isFailure(created)) continue
    const stored = yield* Effect.exit(
      vault.create({
        instanceId: created.value.id,
        scope: { type: "organization", id: env("ORG_ID") },
        credentials: { username: `u${child}-${i}`, password: "secret" }
      })
    )
    yield* say({
      op: "credential",
      instanceId: created.value.id,
      id: Exit.isSuccess(stored) ? stored.value.id : null,
      error: told(stored)
    })
  }
  yield* say("done")
}).pipe(
  Effect.provide(stack()),
  Effect.provideService(Actor.Actor, Actor.ActorInfo.make({ orgId: Ids.OrgId.make(env("ORG_ID")) }))
)

Effect.runPromiseExit(program).then((exit) => {
  if (Exit.isFailure(exit)) {
    process.stderr.write(Cause.pretty(exit.cause))
    process.exit(1)
  }
  process.exit(0)
})
