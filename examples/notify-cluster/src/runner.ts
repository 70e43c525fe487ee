/**
 * One runner of the Notify cluster: one process, listening for other runners on `RUNNER_HOST`
 * (default 127.0.0.1) and `RUNNER_PORT`, storing messages and shard locks in the PostgreSQL at
 * `PATCHBAY_DATABASE_URL`, and executing Notify workflows with Patchbay's activities on the same
 * database (keys from `PATCHBAY_KEYRING`, `PATCHBAY_PRIMARY_KEY_ID`, `PATCHBAY_FINGERPRINT_KEY`).
 * `NOTIFY_ALLOW_LOOPBACK=true` lets the connectors reach peers on 127.0.0.1.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Cluster from "./Cluster.js"
import * as Notify from "./Notify.js"
import * as PatchbayStack from "./PatchbayStack.js"

const main = Effect.gen(function* () {
  const url = yield* Config.redacted("PATCHBAY_DATABASE_URL")
  const host = yield* Config.string("RUNNER_HOST").pipe(Config.withDefault("127.0.0.1"))
  const port = yield* Config.port("RUNNER_PORT")
  const allowLoopback = yield* Config.boolean("NOTIFY_ALLOW_LOOPBACK").pipe(Config.withDefault(false))
  const runner = Notify.layer.pipe(
    Layer.provide(PatchbayStack.layer({ url, migrate: false, allowLoopback })),
    Layer.provideMerge(Cluster.layerRunner({ url, host, port }))
  )
  yield* Layer.build(runner)
  yield* Console.log(JSON.stringify({ event: "ready", host, port, pid: process.pid }))
  return yield* Effect.never
}).pipe(Effect.scoped)

NodeRuntime.runMain(main)
