import { RefreshLock } from "@patchbay/core"
import { contract } from "../../store-sql/test/contract.js"
import { PgliteStore } from "../src/index.js"

contract({
  name: "embedded (PGlite)",
  layer: PgliteStore.layer(),
  // One process owns a PGlite database: its lock is the in-process one.
  otherLock: RefreshLock.RefreshLock,
  sql: true
})
