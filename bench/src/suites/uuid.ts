import { randomUUID } from "node:crypto"
import { Ids } from "@patchbay/core"
import { Effect } from "effect"
import { median, ratioRow, type Suite } from "../harness.js"

/**
 * Id generation: a UUIDv7 through Effect's Clock (monotonic, branded) against a v4 UUID from
 * node:crypto in the same Effect wrapper, so that only the generation itself is compared.
 */
const suite: Suite = {
  name: "Ids.make (UUIDv7)",
  run: async () => {
    const v4 = Effect.sync(() => randomUUID())
    const baseline = { name: "Effect.sync(crypto.randomUUID)", median: await median(() => Effect.runSync(v4)) }
    const make = Ids.make(Ids.InstanceId)
    const subject = await median(() => Effect.runSync(make))
    return [ratioRow("Ids.make(InstanceId)", subject, baseline, 2)]
  }
}
export default suite
