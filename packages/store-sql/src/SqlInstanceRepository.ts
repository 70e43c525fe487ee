/**
 * `InstanceRepository` on @effect/sql. Uniqueness of names (normalised with core's
 * `normalizeName`) and of account fingerprints per (organization, connector) is enforced by unique
 * indexes, so concurrent writers in any number of processes cannot both win; a violation becomes
 * `NameTaken` or `DuplicateAccount`.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import {
  ConnectorInstance,
  type DomainError,
  DomainError as Errors,
  type Ids,
  InstanceRepository
} from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { guard, isUniqueViolation } from "./internal/errors.js"
import { json, operationTimeout, type RepositoryOptions } from "./internal/options.js"
import { recoverable } from "./internal/transaction.js"

const columns = `id, org_id AS "orgId", connector_id AS "connectorId", connector_key AS "connectorKey",
  instance_name AS "instanceName", description, workspace_id AS "workspaceId", configuration,
  auth_type AS "authType", is_enabled AS "isEnabled", last_tested_at AS "lastTestedAt",
  test_status AS "testStatus", test_message AS "testMessage", has_credentials AS "hasCredentials", status,
  account_fingerprint AS "accountFingerprint", created_at AS "createdAt", updated_at AS "updatedAt"`

const decodeInstances = Schema.decodeUnknown(Schema.Array(ConnectorInstance.ConnectorInstance))
const IdRow = Schema.Array(Schema.Struct({ id: Schema.String }))

/**
 * Builds the repository on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<InstanceRepository.InstanceRepositoryShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    const select = sql.literal(columns)
    // Inside a unit of work a refused write must not abort the transaction: the clash is looked up after it.
    const inTransaction = recoverable(sql)

    // A unique violation says which index refused the row; the clashing instance is looked up for
    // DuplicateAccount. Should it vanish in between, the write is simply tried again.
    const onConflict =
      <E>(instance: ConnectorInstance.ConnectorInstance, retry: Effect.Effect<void, E>) =>
      (error: SqlError): Effect.Effect<void, E | Clash | SqlError> => {
        if (isUniqueViolation(error, "instances_name_unique")) {
          return Effect.fail(
            new Errors.NameTaken({ instanceName: instance.instanceName, connector: instance.connectorKey })
          )
        }
        if (!isUniqueViolation(error, "instances_account_unique")) return Effect.fail(error)
        return Effect.gen(function* () {
          const rows = yield* sql`SELECT id FROM patchbay.instances
            WHERE org_id = ${instance.orgId} AND connector_id = ${instance.connectorId}
              AND account_fingerprint = ${instance.accountFingerprint} AND id <> ${instance.id}`
          const [existing] = yield* Schema.decodeUnknown(IdRow)(rows).pipe(Effect.orElseSucceed(() => []))
          if (existing === undefined) return yield* retry
          return yield* new Errors.DuplicateAccount({
            connector: instance.connectorKey,
            existingInstanceId: existing.id
          })
        })
      }

    const insertRow = (instance: ConnectorInstance.ConnectorInstance): Effect.Effect<void, Clash | SqlError> =>
      sql`INSERT INTO patchbay.instances (id, org_id, connector_id, connector_key, instance_name, name_key,
          description, workspace_id, configuration, auth_type, is_enabled, last_tested_at, test_status, test_message,
          has_credentials, status, account_fingerprint, created_at, updated_at)
        VALUES (${instance.id}, ${instance.orgId}, ${instance.connectorId}, ${instance.connectorKey},
          ${instance.instanceName}, ${ConnectorInstance.normalizeName(instance.instanceName)}, ${instance.description},
          ${instance.workspaceId}, ${json(instance.configuration)}::jsonb, ${instance.authType}, ${instance.isEnabled},
          ${instance.lastTestedAt}, ${instance.testStatus}, ${instance.testMessage}, ${instance.hasCredentials},
          ${instance.status}, ${instance.accountFingerprint}, ${instance.createdAt}, ${instance.updatedAt})`.pipe(
        inTransaction,
        Effect.asVoid,
        Effect.catchTag("SqlError", (error) => onConflict(instance, insertRow(instance))(error))
      )

    const updateRow = (
      instance: ConnectorInstance.ConnectorInstance
    ): Effect.Effect<void, Clash | DomainError.InstanceNotFound | SqlError> =>
      sql`UPDATE patchbay.instances SET connector_id = ${instance.connectorId},
          connector_key = ${instance.connectorKey}, instance_name = ${instance.instanceName},
          name_key = ${ConnectorInstance.normalizeName(instance.instanceName)}, description = ${instance.description},
          workspace_id = ${instance.workspaceId}, configuration = ${json(instance.configuration)}::jsonb,
          auth_type = ${instance.authType}, is_enabled = ${instance.isEnabled}, last_tested_at = ${instance.lastTestedAt},
          test_status = ${instance.testStatus}, test_message = ${instance.testMessage},
          has_credentials = ${instance.hasCredentials}, status = ${instance.status},
          account_fingerprint = ${instance.accountFingerprint}, created_at = ${instance.createdAt},
          updated_at = ${instance.updatedAt}
        WHERE org_id = ${instance.orgId} AND id = ${instance.id}
        RETURNING id`.pipe(
        inTransaction,
        Effect.catchTag("SqlError", (error) => Effect.as(onConflict(instance, updateRow(instance))(error), [1])),
        Effect.flatMap((rows) =>
          rows.length === 0 ? Effect.fail(new Errors.InstanceNotFound({ instanceId: instance.id })) : Effect.void
        )
      )

    return InstanceRepository.InstanceRepository.of({
      insert: Effect.fn("InstanceRepository.insert")(function* (instance) {
        yield* insertRow(instance).pipe(guard("InstanceRepository.insert", timeout))
      }),
      get: Effect.fn("InstanceRepository.get")(function* (orgId, id) {
        const rows = yield* sql`SELECT ${select} FROM patchbay.instances WHERE org_id = ${orgId} AND id = ${id}`.pipe(
          Effect.flatMap(decodeInstances),
          guard("InstanceRepository.get", timeout)
        )
        return Option.fromNullable(rows[0])
      }),
      list: Effect.fn("InstanceRepository.list")(function* (orgId, query) {
        const where = [sql`org_id = ${orgId}`]
        if (query.connectorId !== undefined) where.push(sql`connector_id = ${query.connectorId}`)
        if (query.workspaceId === null) where.push(sql`workspace_id IS NULL`)
        else if (query.workspaceId !== undefined) where.push(sql`workspace_id = ${query.workspaceId}`)
        if (query.isEnabled !== undefined) where.push(sql`is_enabled = ${query.isEnabled}`)
        if (query.status !== undefined) where.push(sql`status = ${query.status}`)
        if (query.after !== undefined) where.push(sql`id > ${query.after}`)
        return yield* sql`SELECT ${select} FROM patchbay.instances WHERE ${sql.and(where)}
          ORDER BY id LIMIT ${Math.max(0, Math.floor(query.limit))}`.pipe(
          Effect.flatMap(decodeInstances),
          guard("InstanceRepository.list", timeout)
        )
      }),
      update: Effect.fn("InstanceRepository.update")(function* (instance) {
        yield* updateRow(instance).pipe(guard("InstanceRepository.update", timeout))
      }),
      delete: Effect.fn("InstanceRepository.delete")(function* (orgId: Ids.OrgId, id: Ids.InstanceId) {
        const rows =
          yield* sql`DELETE FROM patchbay.instances WHERE org_id = ${orgId} AND id = ${id} RETURNING id`.pipe(
            guard("InstanceRepository.delete", timeout)
          )
        return rows.length > 0
      })
    })
  })

type Clash = DomainError.NameTaken | DomainError.DuplicateAccount

/**
 * The repository as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<InstanceRepository.InstanceRepository, never, SqlClient.SqlClient> =>
  Layer.effect(InstanceRepository.InstanceRepository, make(options))
