import { assert, describe, it } from "@effect/vitest"
import { Ids } from "@patchbay/core"
import { Effect } from "effect"
import { ReconnectWaits } from "../src/index.js"

const orgA = Ids.OrgId.make("0190a000-0000-7000-8000-0000000000a1")
const orgB = Ids.OrgId.make("0190a000-0000-7000-8000-0000000000b2")
const instance = Ids.InstanceId.make("0190a000-0000-7000-8000-00000000c001")
const other = Ids.InstanceId.make("0190a000-0000-7000-8000-00000000c002")

const wait = (token: string, orgId: Ids.OrgId, instanceId: Ids.InstanceId, at: number) =>
  ReconnectWaits.ReconnectWait.make({ token, orgId, instanceId, registeredAt: new Date(at) })

describe("ReconnectWaits.layerMemory", () => {
  it.effect("lists the waits on one instance of one organization, oldest first, until removed", () =>
    Effect.gen(function* () {
      const waits = yield* ReconnectWaits.ReconnectWaits
      yield* waits.register(wait("t1", orgA, instance, 1))
      yield* waits.register(wait("t2", orgA, instance, 2))
      yield* waits.register(wait("t3", orgA, other, 3))
      yield* waits.register(wait("t4", orgB, instance, 4))
      assert.deepStrictEqual(
        (yield* waits.waitingOn(orgA, instance)).map((w) => w.token),
        ["t1", "t2"]
      )
      // registering a token again replaces its wait
      yield* waits.register(wait("t1", orgA, instance, 5))
      assert.deepStrictEqual(
        (yield* waits.waitingOn(orgA, instance)).map((w) => w.token),
        ["t2", "t1"]
      )
      yield* waits.remove("t2")
      yield* waits.remove("never registered")
      assert.deepStrictEqual(
        (yield* waits.waitingOn(orgA, instance)).map((w) => w.token),
        ["t1"]
      )
      assert.deepStrictEqual(
        (yield* waits.waitingOn(orgB, instance)).map((w) => w.token),
        ["t4"]
      )
    }).pipe(Effect.provide(ReconnectWaits.layerMemory))
  )
})
