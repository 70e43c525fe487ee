/**
 * The stdio test's server process: Patchbay on memory stores seeded with the test connections,
 * served over stdin/stdout as agent A until stdin ends. Its database URL comes from
 * PATCHBAY_TEST_DATABASE_URL.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { McpStdio } from "../src/index.js"
import { PatchbayLive, principal, seed } from "./fixtures.js"

const databaseUrl = process.env.PATCHBAY_TEST_DATABASE_URL
if (databaseUrl === undefined) throw new Error("PATCHBAY_TEST_DATABASE_URL is not set")

Effect.gen(function* () {
  yield* seed(databaseUrl)
  yield* McpStdio.run(principal("agent-a"))
  process.stderr.write("stdio server stopped\n")
}).pipe(Effect.provide(PatchbayLive), NodeRuntime.runMain)
