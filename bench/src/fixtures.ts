/**
 * What several suites set up the same way: a database of their own on the throwaway server, and
 * an instance with an organization credential sealed for real.
 */

import { PostgresDescriptor } from "@patchbay/connector-postgres"
import {
  type Actor,
  ConnectorInstance,
  CredentialRepository,
  CredentialScope,
  Ids,
  InstanceRepository
} from "@patchbay/core"
import { Envelope } from "@patchbay/crypto"
import { Effect, Redacted } from "effect"
import pg from "pg"

/** A new database named `<prefix>_<time>` on the server at `serverUrl`, dropped by `drop`. */
export const freshDatabase = async (serverUrl: string, prefix: string) => {
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  const database = `${prefix}_${Date.now().toString(36)}`
  await admin.query(`CREATE DATABASE ${database}`)
  const url = Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString()
  const drop = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined)
    await admin.end()
  }
  return { url, drop }
}

/** A PostgreSQL instance named `name` in the actor's organization, written through the repository. */
export const postgresInstance = (actor: Actor.ActorInfo, name: string, now: Date) =>
  Effect.gen(function* () {
    const instance = ConnectorInstance.fresh({
      id: yield* Ids.make(Ids.InstanceId),
      orgId: actor.orgId,
      connector: { id: PostgresDescriptor.id, key: "postgres" },
      instanceName: name,
      configuration: { host: "db.internal", port: 5432, database: "analytics" },
      authType: "database_password",
      hasCredentials: true,
      at: now
    })
    yield* (yield* InstanceRepository.InstanceRepository).insert(instance)
    return instance
  })

/** The plaintext every seeded credential holds. */
export const plaintext = new TextEncoder().encode(JSON.stringify({ username: "app", password: "s3cret" }))

/**
 * A PostgreSQL instance named `name` with one organization credential (`plaintext`) sealed by
 * `envelope` (rows written through the repositories).
 */
export const sealedCredential = (envelope: Envelope.EnvelopeShape, actor: Actor.ActorInfo, name: string, now: Date) =>
  Effect.gen(function* () {
    const credentials = yield* CredentialRepository.CredentialRepository
    const instance = yield* postgresInstance(actor, name, now)
    const scope = CredentialScope.CredentialScope.make({ type: "organization", id: actor.orgId })
    const id = yield* Ids.make(Ids.CredentialId)
    const sealed = yield* envelope.seal(
      Redacted.make(plaintext),
      Envelope.aadOf({ id, instanceId: instance.id, scope })
    )
    yield* credentials.insert({
      metadata: {
        id,
        orgId: actor.orgId,
        instanceId: instance.id,
        scope,
        labels: {},
        masked: { username: "app", password: "****" },
        accountFingerprint: null,
        expiresAt: null,
        revokedAt: null,
        createdAt: now
      },
      sealed
    })
    return { instance, scope, credentialId: id }
  })
