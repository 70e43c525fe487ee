import {
  Actor,
  AuditLog,
  ConnectorInstance,
  Credential,
  type CredentialRepository,
  CredentialScope,
  Ids,
  InstanceRepository,
  PendingAuthorizationRepository
} from "@patchbay/core"
import { Effect } from "effect"

export const connectorA = Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000a1")
export const connectorB = Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000b2")

export const newOrg = Ids.make(Ids.OrgId)
export const newUuid = Ids.make(Ids.WorkspaceId)

/** An instance of connector A (unless overridden), created now. */
export const makeInstance = (
  orgId: Ids.OrgId,
  fields: Partial<ConstructorParameters<typeof ConnectorInstance.ConnectorInstance>[0]> = {}
) =>
  Effect.map(Ids.make(Ids.InstanceId), (id) =>
    ConnectorInstance.ConnectorInstance.make({
      id,
      orgId,
      connectorId: connectorA,
      connectorKey: "postgres",
      instanceName: `instance ${id}`,
      description: null,
      workspaceId: null,
      configuration: { host: "db.internal", port: 5432, options: { ssl: true, tags: ["a", "b"] } },
      authType: "database_password",
      isEnabled: true,
      lastTestedAt: null,
      testStatus: "pending",
      testMessage: null,
      hasCredentials: false,
      status: "active",
      accountFingerprint: null,
      createdAt: new Date("2025-01-02T03:04:05.678Z"),
      updatedAt: new Date("2025-01-02T03:04:05.678Z"),
      ...fields
    })
  )

/** A fresh organization with one stored instance of connector A. */
export const storedInstance = Effect.gen(function* () {
  const orgId = yield* newOrg
  const instance = yield* makeInstance(orgId)
  yield* (yield* InstanceRepository.InstanceRepository).insert(instance)
  return { orgId, instance }
})

/** A sealed secret of arbitrary bytes: encryption is not this package's concern. */
export const sealed = (keyId = "key-1", seed = 1) =>
  Credential.SealedSecret.make({
    keyId,
    wrappedKey: new Uint8Array(40).map((_, i) => (i * 7 + seed) % 256),
    nonce: new Uint8Array(12).map((_, i) => (i + seed) % 256),
    ciphertext: new Uint8Array([0, 255, seed % 256, 128, 1, 2, 3])
  })

export const scope = (type: CredentialScope.ScopeType, id: string) => CredentialScope.CredentialScope.make({ type, id })

/** A credential version to insert for an instance. */
export const newCredential = (
  instance: ConnectorInstance.ConnectorInstance,
  credentialScope: CredentialScope.CredentialScope,
  fields: {
    readonly expiresAt?: Date | null
    readonly createdAt?: Date
    readonly keyId?: string
    readonly seed?: number
  } = {}
): Effect.Effect<CredentialRepository.NewCredential> =>
  Effect.map(Ids.make(Ids.CredentialId), (id) => ({
    metadata: {
      id,
      orgId: instance.orgId,
      instanceId: instance.id,
      scope: credentialScope,
      labels: { label: "primary", created_for: { team: "data" } },
      masked: { username: "app", password: "••••••" },
      accountFingerprint: "fp-1",
      expiresAt: fields.expiresAt ?? null,
      revokedAt: null,
      createdAt: fields.createdAt ?? new Date("2025-03-01T00:00:00.000Z")
    },
    sealed: sealed(fields.keyId, fields.seed)
  }))

/** An audit event of an organization. */
export const auditEvent = (
  orgId: Ids.OrgId,
  fields: Partial<ConstructorParameters<typeof AuditLog.AuditEvent>[0]> = {}
) =>
  Effect.map(Ids.make(Ids.AuditEventId), (id) =>
    AuditLog.AuditEvent.make({
      id,
      orgId,
      at: new Date("2025-04-05T06:07:08.009Z"),
      actor: Actor.ActorInfo.make({ orgId, userId: Ids.UserId.make("0190c000-0000-7000-8000-0000000000c1") }),
      action: "instance.create",
      instanceId: null,
      outcome: "success",
      details: { instanceName: "Prod", fields: ["host", "port"], nested: { count: 2, ok: true, none: null } },
      ...fields
    })
  )

/** A pending authorization for an instance. */
export const pending = (
  instance: ConnectorInstance.ConnectorInstance,
  stateHash: string,
  expiresAt: Date,
  createdAt = new Date("2025-05-01T00:00:00.000Z")
) =>
  PendingAuthorizationRepository.PendingAuthorization.make({
    stateHash,
    orgId: instance.orgId,
    instanceId: instance.id,
    scope: scope("organization", instance.orgId),
    redirectUri: "https://app.example.com/oauth/callback",
    sealed: sealed("key-1", 9),
    createdAt,
    expiresAt
  })
