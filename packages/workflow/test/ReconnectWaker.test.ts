import { assert, describe, it } from "@effect/vitest"
import { Credential, CredentialScope, Ids } from "@patchbay/core"
import { ReconnectWaker } from "../src/index.js"

const orgId = Ids.OrgId.make("0190a000-0000-7000-8000-00000000000c")
const instanceId = Ids.InstanceId.make("0190a000-0000-7000-8000-00000000c0c0")
const org = CredentialScope.CredentialScope.make({ type: "organization", id: orgId })
const someoneElse = CredentialScope.CredentialScope.make({ type: "user", id: "0190a000-0000-7000-8000-0000000000e1" })

const version = (scope: CredentialScope.CredentialScope, createdAt: number, revokedAt: number | null = null) =>
  Credential.CredentialMetadata.make({
    id: Ids.CredentialId.make(`0190a000-0000-7000-8000-${String(createdAt).padStart(12, "0")}`),
    orgId,
    instanceId,
    scope,
    version: 1,
    labels: {},
    masked: {},
    accountFingerprint: null,
    expiresAt: null,
    revokedAt: revokedAt === null ? null : new Date(revokedAt),
    createdAt: new Date(createdAt)
  })

const judge = (active: boolean, versions: ReadonlyArray<Credential.CredentialMetadata>) =>
  ReconnectWaker.reconnectedFor({ scopes: [org], since: 100, active, versions, now: new Date(500) })

describe("ReconnectWaker.reconnectedFor", () => {
  it("a valid version of the actor's scope stored since the wait reconnects it", () => {
    assert.isTrue(judge(false, [version(org, 200)]))
    assert.isFalse(judge(false, [version(org, 50)]))
    assert.isFalse(judge(false, [version(org, 200, 300)]))
  })

  it("an active instance reconnects it, unless only another scope's new version made it active", () => {
    assert.isTrue(judge(true, []))
    assert.isTrue(judge(true, [version(someoneElse, 50)]))
    assert.isFalse(judge(true, [version(someoneElse, 200)]))
    assert.isTrue(judge(true, [version(someoneElse, 200), version(org, 300)]))
    assert.isFalse(judge(false, [version(someoneElse, 200)]))
  })
})
