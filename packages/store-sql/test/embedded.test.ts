import { RefreshLock } from "@patchbay/core"
import { SqlStore } from "../src/index.js"
import { contract } from "./contract.js"

contract({
  name: "embedded (PGlite)",
  layer: SqlStore.layerEmbedded(),
  // One process owns a PGlite database: its lock is the in-process one.
  otherLock: RefreshLock.RefreshLock,
  sql: true
})
