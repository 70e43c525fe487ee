/**
 * The instances-and-credentials document's SDK examples, replayed as plain HTTP calls with its field
 * names. Where an example names a placeholder ("uuid-of-instance", "uuid-of-org") the test uses the
 * real id; where it names a host the test cannot reach, the instance is then pointed at the test
 * database so the connection examples run for real. Patchbay stores its own rows with `SqlStore` in
 * the same throwaway PostgreSQL.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { call, databaseConfiguration, databaseCredentials, orgId, ServerOnPostgres, workspaceId } from "./support.js"

describe("the product document's examples over HTTP, on SqlStore and PostgreSQL", () => {
  layer(ServerOnPostgres, { excludeTestServices: true })((it) => {
    it.effect("create, update, disable, store a credential, list expiring, test, health, bulk, schema, DDL", () =>
      Effect.gen(function* () {
        const connectors = yield* call("GET", "/api/v1/connectors", { as: "admin" })
        const postgres = connectors.json.find((c: { key: string }) => c.key === "postgres")

        // sdk.connector_instances.create(...)
        const created = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          body: {
            connector_id: postgres.id,
            instance_name: "Analytics DB - Production",
            description: "Read-only access to the production analytics database",
            configuration: {
              host: "analytics-db.internal.company.com",
              port: 5432,
              database: "analytics",
              ssl_mode: "require"
            }
          }
        })
        assert.strictEqual(created.status, 201, created.text)
        const instanceId: string = created.json.id
        for (const field of ["is_enabled", "last_tested_at", "test_status", "test_message", "has_credentials"]) {
          assert.property(created.json, field)
        }
        assert.strictEqual(created.json.test_status, "pending")
        assert.strictEqual(created.json.workspace_id, null)

        // sdk.connector_instances.update(instance_id=..., instance_name=..., configuration=...)
        const updated = yield* call("PATCH", `/api/v1/connector-instances/${instanceId}`, {
          as: "admin",
          body: {
            instance_name: "Analytics DB - Production (Read-Only)",
            configuration: {
              host: "analytics-db-v2.internal.company.com",
              port: 5432,
              database: "analytics",
              ssl_mode: "require"
            }
          }
        })
        assert.strictEqual(updated.status, 200, updated.text)
        assert.strictEqual(updated.json.instance_name, "Analytics DB - Production (Read-Only)")
        assert.strictEqual(updated.json.configuration.host, "analytics-db-v2.internal.company.com")

        // sdk.connector_instances.update(instance_id=..., is_enabled=False)
        const disabled = yield* call("PATCH", `/api/v1/connector-instances/${instanceId}`, {
          as: "admin",
          body: { is_enabled: false }
        })
        assert.strictEqual(disabled.json.is_enabled, false)

        // The test database stands in for the analytics host from here on.
        yield* call("PATCH", `/api/v1/connector-instances/${instanceId}`, {
          as: "admin",
          body: { is_enabled: true, configuration: databaseConfiguration }
        })

        // sdk.connector_instances.create_credential(...): the document's expires_at (2025-12-31) is
        // in the past by now, and a credential that has already expired is refused.
        const credentialBody = {
          scope_type: "organization",
          scope_id: orgId,
          credentials: { username: "readonly_user", password: "s3cur3_p4ssw0rd" },
          credential_metadata: { label: "Production read-only user", created_for: "analytics pipeline" },
          expires_at: "2025-12-31T23:59:59Z"
        }
        const expired = yield* call("POST", `/api/v1/connector-instances/${instanceId}/credentials`, {
          as: "admin",
          body: credentialBody
        })
        assert.strictEqual(expired.status, 422, expired.text)
        const inTenDays = new Date(Date.now() + 10 * 86_400_000).toISOString()
        const credential = yield* call("POST", `/api/v1/connector-instances/${instanceId}/credentials`, {
          as: "admin",
          body: { ...credentialBody, credentials: databaseCredentials, expires_at: inTenDays }
        })
        assert.strictEqual(credential.status, 201, credential.text)
        assert.isString(credential.json.id)
        assert.deepStrictEqual(credential.json.credential_metadata, credentialBody.credential_metadata)
        assert.notInclude(credential.text, databaseCredentials.password)
        // The DDL example uses the workspace scope.
        const workspaceCredential = yield* call("POST", `/api/v1/connector-instances/${instanceId}/credentials`, {
          as: "admin",
          body: { scope_type: "workspace", scope_id: workspaceId, credentials: databaseCredentials }
        })
        assert.strictEqual(workspaceCredential.status, 201, workspaceCredential.text)

        // sdk.connector_instances.list_expiring_credentials(days_ahead=30)
        const expiring = yield* call("GET", "/api/v1/credentials/expiring?days_ahead=30", { as: "admin" })
        assert.strictEqual(expiring.status, 200, expiring.text)
        const cred = expiring.json.find((c: { instance_id: string }) => c.instance_id === instanceId)
        assert.strictEqual(cred.connector_name, "PostgreSQL")
        assert.strictEqual(Math.round(cred.days_remaining), 10)

        // sdk.connector_instances.test_connection(instance_id, scope_type, scope_id)
        const test = yield* call("POST", `/api/v1/connector-instances/${instanceId}/test-connection`, {
          as: "admin",
          body: { scope_type: "organization", scope_id: orgId }
        })
        assert.strictEqual(test.status, 200, test.text)
        assert.strictEqual(test.json.status, "success")
        assert.isString(test.json.message)
        assert.isString(test.json.tested_at)

        // sdk.connector_instances.health_check(..., timeout_seconds=10.0)
        const health = yield* call("POST", `/api/v1/connector-instances/${instanceId}/health-check`, {
          as: "admin",
          body: { scope_type: "organization", scope_id: orgId, timeout_seconds: 10.0 }
        })
        assert.strictEqual(health.json.status, "healthy", health.text)
        assert.isNumber(health.json.latency_ms)

        // sdk.connector_instances.bulk_operation(instance_ids=[...], action="health_check")
        const other = "0190a000-0000-7000-8000-00000000f00d"
        const bulk = yield* call("POST", "/api/v1/connector-instances/bulk-operation", {
          as: "admin",
          body: { instance_ids: [instanceId, other], action: "health_check" }
        })
        assert.strictEqual(bulk.status, 200, bulk.text)
        assert.deepStrictEqual(
          bulk.json.map((r: { instance_id: string; status: string }) => [r.instance_id, r.status]),
          [
            [instanceId, "healthy"],
            [other, "error"]
          ]
        )

        // sdk.connector_instances.execute_ddl(..., confirm=False, scope_type="workspace", scope_id=...)
        const sql = "CREATE TABLE events (id SERIAL PRIMARY KEY, name TEXT, created_at TIMESTAMPTZ)"
        yield* call("POST", `/api/v1/connector-instances/${instanceId}/execute-ddl`, {
          as: "admin",
          body: { sql: "DROP TABLE IF EXISTS events", confirm: true, scope_type: "workspace", reason: "replay" }
        })
        const preview = yield* call("POST", `/api/v1/connector-instances/${instanceId}/execute-ddl`, {
          as: "admin",
          body: { sql, confirm: false, scope_type: "workspace", scope_id: workspaceId }
        })
        assert.strictEqual(preview.status, 200, preview.text)
        assert.strictEqual(preview.json.executed, false)
        assert.include(preview.json.preview, "CREATE TABLE events")
        const executed = yield* call("POST", `/api/v1/connector-instances/${instanceId}/execute-ddl`, {
          as: "admin",
          body: {
            sql,
            confirm: true,
            scope_type: "workspace",
            scope_id: workspaceId,
            reason: "Creating events table for analytics pipeline"
          }
        })
        assert.strictEqual(executed.json.executed, true, executed.text)

        // sdk.connector_instances.get_schema(instance_id, scope_type, scope_id)
        const schema = yield* call(
          "GET",
          `/api/v1/connector-instances/${instanceId}/schema?scope_type=organization&scope_id=${orgId}`,
          { as: "admin" }
        )
        assert.strictEqual(schema.status, 200, schema.text)
        const events = schema.json.tables.find((t: { name: string }) => t.name === "events")
        assert.deepStrictEqual(
          events.fields.map((f: { name: string }) => f.name),
          ["id", "name", "created_at"]
        )
        yield* call("POST", `/api/v1/connector-instances/${instanceId}/execute-ddl`, {
          as: "admin",
          body: { sql: "DROP TABLE events", confirm: true, scope_type: "workspace", reason: "replay cleanup" }
        })
      })
    )
  })
})
