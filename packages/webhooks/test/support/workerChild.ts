/**
 * One worker process of the multi-process test (pg.test.ts): `WebhookWorker.layer` on `layerPg`
 * against the database in `DATABASE_URL`, with the keyring key in `KEY`. It prints "ready" once
 * its layers are built and runs until it is signalled.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { EgressPolicy } from "@patchbay/core"
import { Envelope, Keyring } from "@patchbay/crypto"
import { SqlStore } from "@patchbay/store-sql"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { WebhookWorker } from "../../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const worker = WebhookWorker.layer(Schedule.spaced("100 millis"), {
  backoffBase: "20 millis",
  batchSize: 10,
  concurrency: 4
}).pipe(
  Layer.provide(
    Layer.mergeAll(
      SqlStore.layerPg({ url: Redacted.make(env("DATABASE_URL")), migrate: false, maxConnections: 4 }),
      Envelope.layer.pipe(
        Layer.provide(Keyring.layer({ keys: [{ id: "k1", key: Redacted.make(env("KEY")) }], primary: "k1" }))
      ),
      EgressPolicy.layer({ allowLoopback: true })
    )
  )
)

NodeRuntime.runMain(
  Effect.gen(function* () {
    yield* Layer.build(worker)
    yield* Effect.sync(() => process.stdout.write("ready\n"))
    return yield* Effect.never
  }).pipe(Effect.scoped)
)
