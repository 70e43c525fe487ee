import { randomUUID } from "node:crypto"
import { Ids } from "@patchbay/core"
import { Effect } from "effect"
import { median, ratioRow, type Suite } from "../harness.js"

/** Id generation: UUIDv7 through Effect's Clock against node's randomUUID (v4). */
const suite: Suite = {
  name: "Ids.make (UUIDv7)",
  run: async () => {
    const baseline = { name: "crypto.randomUUID", median: await median(() => randomUUID()) }
    const make = Ids.make(Ids.InstanceId)
    const subject = await median(() => Effect.runSync(make))
    return [ratioRow("Ids.make(InstanceId)", subject, baseline, 20)]
  }
}
export default suite
