/**
 * One process of the crash test (crash.test.ts). It loads its modules while the test starts the
 * server, then reads its settings as the first line on stdin (JSON: database URL, keys, org),
 * composes ConnectorInstances and CredentialVault on `layerPg`, prints "ready" and waits for "go".
 * Then `WRITERS` concurrent writers each create an instance and store a credential for it, over and
 * over, until "stop" arrives or `ROUNDS` rounds are done. Each call's outcome goes to stdout as one
 * JSON line, as the caller was told it: success with the id, or the failure's tag. "done" ends the
 * output.
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
// Modules, not the "effect" index: loading fewer modules is most of a writer's start.
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { SqlStore } from "../../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

/** The first line on stdin. */
const Settings = Schema.parseJson(
  Schema.Struct({ databaseUrl: Schema.String, key: Schema.String, fingerprintKey: Schema.String, orgId: Ids.OrgId })
)
type Settings = typeof Settings.Type

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

const stack = (settings: Settings) => {
  const ports = Layer.mergeAll(
    SqlStore.layerPg({
      url: Redacted.make(settings.databaseUrl),
      maxConnections: writers,
      migrate: false
    }),
    ConnectorRegistry.layer([connector])
  )
  const crypto = Layer.mergeAll(
    Envelope.layer.pipe(
      Layer.provideMerge(Keyring.layer({ keys: [{ id: "k1", key: Redacted.make(settings.key) }], primary: "k1" }))
    ),
    Fingerprint.layer({ key: Redacted.make(settings.fingerprintKey) })
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

let configure: (line: string) => void = () => {}
const configured = new Promise<string>((resolve) => {
  configure = resolve
})
let going: () => void = () => {}
const started = new Promise<void>((resolve) => {
  going = resolve
})
let stopped = false
let first = true
createInterface({ input: process.stdin }).on("line", (line) => {
  if (first) {
    first = false
    configure(line)
  } else if (line.trim() === "go") going()
  else if (line.trim() === "stop") stopped = true
})

const child = env("CHILD")
const rounds = Number(env("ROUNDS"))
const writers = Number(env("WRITERS"))

/** One writer: instance, then its credential, round after round. */
const write = (writer: number, orgId: Ids.OrgId) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    for (let i = 0; i < rounds && !stopped; i++) {
      const name = `p${child}-w${writer}-${i}`
      const created = yield* Effect.exit(
        instances.create({ connector: "crash-db", instanceName: name, configuration: { host: "db" } })
      )
      yield* say({ op: "instance", name, id: Exit.isSuccess(created) ? created.value.id : null, error: told(created) })
      if (Exit.isFailure(created)) continue
      const stored = yield* Effect.exit(
        vault.create({
          instanceId: created.value.id,
          scope: { type: "organization", id: orgId },
          credentials: { username: `u${child}-w${writer}-${i}`, password: "secret" }
        })
      )
      yield* say({
        op: "credential",
        instanceId: created.value.id,
        id: Exit.isSuccess(stored) ? stored.value.id : null,
        error: told(stored)
      })
    }
  })

const program = Effect.gen(function* () {
  const settings = yield* Schema.decode(Settings)(yield* Effect.promise(() => configured))
  yield* Effect.gen(function* () {
    yield* say("ready")
    yield* Effect.promise(() => started)
    yield* Effect.forEach(
      Array.from({ length: writers }, (_, w) => w),
      (w) => write(w, settings.orgId),
      { concurrency: "unbounded", discard: true }
    )
    yield* say("done")
  }).pipe(
    Effect.provide(stack(settings)),
    Effect.provideService(Actor.Actor, Actor.ActorInfo.make({ orgId: settings.orgId }))
  )
})

Effect.runPromiseExit(program).then((exit) => {
  if (Exit.isFailure(exit)) {
    process.stderr.write(Cause.pretty(exit.cause))
    process.exit(1)
  }
  process.exit(0)
})
