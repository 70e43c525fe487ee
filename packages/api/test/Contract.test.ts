import { assert, describe, layer } from "@effect/vitest"
import { MailServer } from "@patchbay/testing"
import { Validator } from "@seriousme/openapi-schema-validator"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ApiError, type ApiModels } from "../src/index.js"
import {
  call,
  clientAs,
  databaseConfiguration,
  databaseCredentials,
  type Json,
  orgId,
  ServerLive,
  userIds
} from "./support.js"

let mail: MailServer.MailServer
beforeAll(async () => {
  mail = await MailServer.start({ mailer: "s3cret" })
})
afterAll(() => mail.close())

/**
 * A Postgres instance on the test database with an organization credential, through the typed
 * client. An account is connected once per organization, so the tests share the superuser's
 * instance (`Shared DB`) and give other instances accounts of their own.
 */
let shared: typeof ApiModels.Instance.Type | undefined
const sharedDatabase = Effect.suspend(() =>
  shared === undefined
    ? Effect.tap(connectDatabase("Shared DB"), (instance) => {
        shared = instance
      })
    : Effect.succeed(shared)
)

const connectDatabase = (instanceName: string, credentials = databaseCredentials) =>
  Effect.gen(function* () {
    const admin = yield* clientAs("admin")
    const instance = yield* admin.connectorInstances.create({
      headers: {},
      payload: { connectorId: "postgres", instanceName, configuration: databaseConfiguration }
    })
    yield* admin.credentials.create({
      headers: {},
      path: { instance_id: instance.id },
      payload: { scopeType: "organization", credentials }
    })
    return instance
  })

describe("HTTP API contract", () => {
  layer(ServerLive, { excludeTestServices: true })((it) => {
    it.effect("connectors: list, and get with JSON Schemas and field help", () =>
      Effect.gen(function* () {
        const client = yield* clientAs("viewer")
        const list = yield* client.connectors.list()
        assert.deepStrictEqual(list.map((c) => c.key).sort(), ["postgres", "smtp"])
        const postgres = yield* client.connectors.get({ path: { connector_id: "postgres" } })
        assert.strictEqual(postgres.name, "PostgreSQL")
        assert.isTrue(postgres.supportsSchemaDiscovery)
        assert.property(postgres.configurationSchema, "properties")
        // Optional: a client certificate alone may log in.
        const password = postgres.fields.find((f) => f.name === "password")!
        assert.deepInclude(password, { location: "credentials", secret: true, required: false })
        const username = postgres.fields.find((f) => f.name === "username")!
        assert.deepInclude(username, { location: "credentials", secret: false, required: true })
        const host = postgres.fields.find((f) => f.name === "host")!
        assert.deepInclude(host, { location: "configuration", secret: false, required: true })
        assert.isFalse(postgres.fields.find((f) => f.name === "port")!.required)
        const missing = yield* Effect.flip(client.connectors.get({ path: { connector_id: "mysql" } }))
        assert.instanceOf(missing, ApiError.ConnectorNotFound)
      })
    )

    it.effect("connector instances: create, get, list with filters and a cursor, update, enable/disable, delete", () =>
      Effect.gen(function* () {
        const client = yield* clientAs("admin")
        const created = yield* client.connectorInstances.create({
          headers: {},
          payload: {
            connectorId: "postgres",
            instanceName: "Lifecycle A",
            description: "first",
            configuration: { host: "db.internal", database: "a" }
          }
        })
        assert.strictEqual(created.instanceName, "Lifecycle A")
        assert.strictEqual(created.testStatus, "pending")
        assert.isFalse(created.hasCredentials)
        assert.strictEqual(created.configuration.port, 5432)
        const second = yield* client.connectorInstances.create({
          headers: {},
          payload: {
            connectorId: "postgres",
            instanceName: "Lifecycle B",
            configuration: { host: "db", database: "b" }
          }
        })
        const got = yield* client.connectorInstances.get({ path: { instance_id: created.id } })
        assert.strictEqual(got.description, "first")

        const first = yield* client.connectorInstances.list({ urlParams: { connectorId: "postgres", limit: 1 } })
        assert.strictEqual(first.items.length, 1)
        assert.isNotNull(first.nextCursor)
        const seen = [...first.items.map((i) => i.id)]
        let cursor: string | null = first.nextCursor
        while (cursor !== null) {
          const page: typeof ApiModels.InstancePage.Type = yield* client.connectorInstances.list({
            urlParams: { connectorId: "postgres", limit: 1, cursor }
          })
          seen.push(...page.items.map((i) => i.id))
          cursor = page.nextCursor
        }
        assert.includeMembers(seen, [created.id, second.id])
        assert.strictEqual(new Set(seen).size, seen.length)

        const renamed = yield* client.connectorInstances.update({
          path: { instance_id: created.id },
          payload: { instanceName: "Lifecycle A (renamed)", configuration: { host: "db2.internal", database: "a" } }
        })
        assert.strictEqual(renamed.instanceName, "Lifecycle A (renamed)")
        assert.strictEqual(renamed.configuration.host, "db2.internal")

        const disabled = yield* client.connectorInstances.disable({ path: { instance_id: created.id } })
        assert.isFalse(disabled.isEnabled)
        const onlyDisabled = yield* client.connectorInstances.list({ urlParams: { isEnabled: false } })
        assert.deepStrictEqual(
          onlyDisabled.items.map((i) => i.id),
          [created.id]
        )
        const enabled = yield* client.connectorInstances.enable({ path: { instance_id: created.id } })
        assert.isTrue(enabled.isEnabled)

        yield* client.connectorInstances.delete({ path: { instance_id: created.id } })
        const gone = yield* Effect.flip(client.connectorInstances.get({ path: { instance_id: created.id } }))
        assert.instanceOf(gone, ApiError.InstanceNotFound)
        const deleteAgain = yield* call("DELETE", `/api/v1/connector-instances/${created.id}`, { as: "admin" })
        assert.strictEqual(deleteAgain.status, 404)
      })
    )

    it.effect("credentials: create returns metadata only, list is masked, revoke, list expiring", () =>
      Effect.gen(function* () {
        const admin = yield* clientAs("admin")
        const instance = yield* admin.connectorInstances.create({
          headers: {},
          payload: {
            connectorId: "postgres",
            instanceName: "Credentials",
            configuration: { host: "cred.db", database: "c" }
          }
        })
        const expiresAt = new Date(Date.now() + 5 * 86_400_000).toISOString()
        const created = yield* call("POST", `/api/v1/connector-instances/${instance.id}/credentials`, {
          as: "admin",
          body: {
            scope_type: "organization",
            credentials: { username: "reader", password: "pw-never-shown-41" },
            credential_metadata: { label: "read-only" },
            expires_at: expiresAt
          }
        })
        assert.strictEqual(created.status, 201)
        assert.notInclude(created.text, "pw-never-shown-41")
        assert.strictEqual(created.json.scope_id, orgId)
        assert.strictEqual(created.json.masked.username, "reader")
        assert.notStrictEqual(created.json.masked.password, "pw-never-shown-41")

        const viewerList = yield* call("GET", `/api/v1/connector-instances/${instance.id}/credentials`, {
          as: "viewer"
        })
        assert.strictEqual(viewerList.status, 200)
        assert.notInclude(viewerList.text, "pw-never-shown-41")
        assert.strictEqual(viewerList.json.length, 1)

        const expiring = yield* admin.credentials.listExpiring({ urlParams: { daysAhead: 30 } })
        const mine = expiring.find((e) => e.instanceId === instance.id)!
        assert.strictEqual(mine.connectorName, "PostgreSQL")
        assert.isTrue(mine.daysRemaining > 4 && mine.daysRemaining <= 5)
        assert.strictEqual(mine.kind, "credential")
        assert.isUndefined(mine.reconnectUrl)
        const notYet = yield* admin.credentials.listExpiring({ urlParams: { daysAhead: 1 } })
        assert.isUndefined(notYet.find((e) => e.instanceId === instance.id))

        const revoked = yield* admin.credentials.revoke({
          path: { instance_id: instance.id, credential_id: created.json.id }
        })
        assert.isNotNull(revoked.revokedAt)
        const unknown = yield* Effect.flip(
          admin.credentials.revoke({
            path: { instance_id: instance.id, credential_id: "0190a000-0000-7000-8000-00000000ffff" }
          })
        )
        assert.instanceOf(unknown, ApiError.CredentialNotFound)
        const after = yield* admin.connectorInstances.get({ path: { instance_id: instance.id } })
        assert.isFalse(after.hasCredentials)
      })
    )

    it.effect("test_connection, health_check, bulk_operation, get_schema and execute_ddl on a real PostgreSQL", () =>
      Effect.gen(function* () {
        const client = yield* clientAs("admin")
        const instance = yield* sharedDatabase
        const path = { instance_id: instance.id }
        const tested = yield* client.operations.testConnection({ path, payload: {} })
        assert.strictEqual(tested.status, "success")
        const recorded = yield* client.connectorInstances.get({ path })
        assert.strictEqual(recorded.testStatus, "success")
        assert.isNotNull(recorded.lastTestedAt)

        const health = yield* client.operations.healthCheck({
          path,
          payload: { scopeType: "organization", timeoutSeconds: 10 }
        })
        assert.strictEqual(health.status, "healthy")
        assert.isTrue(health.latencyMs >= 0)

        const bulk = yield* client.operations.bulkOperation({
          payload: { instanceIds: [instance.id, "0190a000-0000-7000-8000-00000000eeee"], action: "health_check" }
        })
        assert.deepStrictEqual(
          bulk.map((r) => [r.instanceId, r.status]),
          [
            [instance.id, "healthy"],
            ["0190a000-0000-7000-8000-00000000eeee", "error"]
          ]
        )
        const tooMany = yield* Effect.flip(
          client.operations.bulkOperation({
            payload: {
              instanceIds: Array.from(
                { length: 51 },
                (_, i) => `0190a000-0000-7000-8000-${String(i).padStart(12, "0")}`
              ),
              action: "test_connection"
            }
          })
        )
        assert.oneOf(tooMany._tag, ["InvalidInput", "BatchTooLarge"])

        yield* client.operations.executeDdl({
          path,
          payload: { sql: "DROP TABLE IF EXISTS api_contract_events", confirm: true, reason: "clean slate" }
        })
        const preview = yield* client.operations.executeDdl({
          path,
          payload: { sql: "CREATE TABLE api_contract_events (id serial PRIMARY KEY, name text)", confirm: false }
        })
        assert.isFalse(preview.executed)
        assert.include(preview.preview, "create")
        const executed = yield* client.operations.executeDdl({
          path,
          payload: { sql: "CREATE TABLE api_contract_events (id serial PRIMARY KEY, name text)", confirm: true }
        })
        assert.isTrue(executed.executed)

        const schema = yield* client.operations.getSchema({ path, urlParams: { schemas: "public" } })
        const table = schema.tables.find((t) => t.name === "api_contract_events")!
        assert.deepStrictEqual(
          table.fields.map((f) => [f.name, f.primaryKey]),
          [
            ["id", true],
            ["name", false]
          ]
        )

        yield* client.activities.runQuery({
          path,
          payload: { sql: "INSERT INTO api_contract_events (name) VALUES ($1)", params: ["one"] }
        })
        const refused = yield* Effect.flip(
          client.operations.executeDdl({ path, payload: { sql: "DROP TABLE api_contract_events", confirm: true } })
        )
        assert.instanceOf(refused, ApiError.ActivityRejected)
        assert.isFalse(refused.retryable)
        const dropped = yield* client.operations.executeDdl({
          path,
          payload: { sql: "DROP TABLE api_contract_events", confirm: true, reason: "contract test cleanup" }
        })
        assert.isTrue(dropped.executed)
      })
    )

    it.effect("activities: run query, send email, fetch file and send sms", () =>
      Effect.gen(function* () {
        const client = yield* clientAs("member")
        const admin = yield* clientAs("admin")
        const instance = yield* sharedDatabase
        const rows = yield* client.activities.runQuery({
          path: { instance_id: instance.id },
          payload: { sql: "SELECT $1::int + 1 AS n", params: [41], maxRows: 10 }
        })
        assert.deepStrictEqual(rows.rows, [{ n: 42 }])
        assert.strictEqual(rows.rowCount, 1)
        assert.deepStrictEqual(rows.tableWide, [])

        mail.users.set("api-mailer", "s3cret")
        const smtp = yield* admin.connectorInstances.create({
          headers: {},
          payload: {
            connectorId: "smtp",
            instanceName: "Mail",
            configuration: { host: "127.0.0.1", port: mail.port, security: "none", from: "patchbay@example.com" }
          }
        })
        yield* admin.credentials.create({
          headers: {},
          path: { instance_id: smtp.id },
          payload: { scopeType: "organization", credentials: { username: "api-mailer", password: "s3cret" } }
        })
        const receipt = yield* client.activities.sendEmail({
          path: { instance_id: smtp.id },
          payload: {
            to: ["ops@example.com"],
            subject: "From the API",
            text: "hello",
            attachments: [{ filename: "a.txt", contentType: "text/plain", content: btoa("attached") }]
          }
        })
        assert.deepStrictEqual(receipt.accepted, ["ops@example.com"])
        assert.include(mail.received.at(-1)!.raw, "Subject: From the API")

        // Neither connector fetches files or sends SMS: both endpoints answer with the typed refusal.
        const file = yield* Effect.flip(
          client.activities.fetchFile({ path: { instance_id: instance.id }, payload: { path: "/report.csv" } })
        )
        assert.instanceOf(file, ApiError.ActivityRejected)
        assert.include(file.reason, "fetch_file")
        const tooLarge = yield* Effect.flip(
          client.activities.fetchFile({
            path: { instance_id: instance.id },
            payload: { path: "/report.csv", maxBytes: 26 * 1024 * 1024 }
          })
        )
        assert.instanceOf(tooLarge, ApiError.InvalidInput)
        const sms = yield* Effect.flip(
          client.activities.sendSms({ path: { instance_id: smtp.id }, payload: { to: "+15551234567", body: "hi" } })
        )
        assert.instanceOf(sms, ApiError.ActivityRejected)
        assert.include(sms.reason, "send_sms")
      })
    )

    it.effect("oauth2: authorization URL, callback and reconnect", () =>
      Effect.gen(function* () {
        const client = yield* clientAs("admin")
        const instance = yield* sharedDatabase
        const authorize = yield* Effect.flip(
          client.oauth2.authorize({ path: { instance_id: instance.id }, payload: {} })
        )
        assert.instanceOf(authorize, ApiError.InvalidConfiguration)
        const reconnect = yield* client.oauth2.reconnect({ path: { instance_id: instance.id }, payload: {} })
        assert.deepStrictEqual(reconnect, { action: "replace_credentials", authorizationUrl: null, expiresAt: null })
        const callback = yield* Effect.flip(client.oauth2.callback({ urlParams: { state: "never-issued", code: "x" } }))
        assert.instanceOf(callback, ApiError.OAuth2Rejected)
        assert.strictEqual(callback.kind, "AuthorizationStateRejected")
      })
    )

    it.effect("every error class answers with its status and a body of _tag, message and retryable", () =>
      Effect.gen(function* () {
        const expect = (
          response: { readonly status: number; readonly json: Json; readonly text: string },
          status: number,
          tag: string,
          retryable = false
        ) => {
          assert.strictEqual(response.status, status, response.text)
          assert.strictEqual(response.json._tag, tag)
          assert.isString(response.json.message)
          assert.strictEqual(response.json.retryable, retryable)
          assert.notMatch(response.text, /\n\s+at |"stack"/)
          assert.notInclude(response.text, databaseCredentials.password)
        }
        expect(yield* call("GET", "/api/v1/connector-instances"), 401, "Unauthenticated")
        expect(yield* call("GET", "/api/v1/connector-instances", { token: "guessed-token" }), 401, "Unauthenticated")
        expect(
          yield* call("POST", "/api/v1/connector-instances", {
            as: "viewer",
            body: { connector_id: "postgres", instance_name: "x" }
          }),
          403,
          "Forbidden"
        )
        expect(
          yield* call("GET", "/api/v1/connector-instances/0190a000-0000-7000-8000-00000000dddd", { as: "viewer" }),
          404,
          "InstanceNotFound"
        )
        expect(yield* call("GET", "/api/v1/connectors/nope", { as: "viewer" }), 404, "ConnectorNotFound")

        yield* sharedDatabase
        expect(
          yield* call("POST", "/api/v1/connector-instances", {
            as: "admin",
            body: { connector_id: "postgres", instance_name: "  shared DB ", configuration: databaseConfiguration }
          }),
          409,
          "NameTaken"
        )
        const twin = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          body: { connector_id: "postgres", instance_name: "Shared DB twin", configuration: databaseConfiguration }
        })
        expect(
          yield* call("POST", `/api/v1/connector-instances/${twin.json.id}/credentials`, {
            as: "admin",
            body: { scope_type: "organization", credentials: databaseCredentials }
          }),
          409,
          "DuplicateAccount"
        )
        // Idempotency-Key: the same request again answers with the first result; another request, 409.
        const keyed = { connector_id: "postgres", instance_name: "Keyed", configuration: { host: "k", database: "k" } }
        const first = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          headers: { "idempotency-key": "create-keyed-1" },
          body: keyed
        })
        const again = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          headers: { "idempotency-key": "create-keyed-1" },
          body: keyed
        })
        assert.strictEqual(first.status, 201, first.text)
        assert.strictEqual(again.json.id, first.json.id)
        expect(
          yield* call("POST", "/api/v1/connector-instances", {
            as: "admin",
            headers: { "idempotency-key": "create-keyed-1" },
            body: { ...keyed, instance_name: "Keyed other" }
          }),
          409,
          "IdempotencyKeyReused"
        )

        const invalid = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          body: { connector_id: "postgres", instance_name: "Invalid", configuration: { host: "", database: "d" } }
        })
        expect(invalid, 422, "InvalidConfiguration")
        assert.include(invalid.json.detail, "host must not be empty")
        expect(
          yield* call("POST", "/api/v1/connector-instances", {
            as: "admin",
            body: { connector_id: "postgres", instance_name: "x".repeat(300) }
          }),
          422,
          "InvalidInput"
        )
        expect(
          yield* call("GET", `/api/v1/credentials/expiring?days_ahead=99999`, { as: "viewer" }),
          422,
          "InvalidInput"
        )

        // A rejected password: 424 ReconnectRequired with the action the person must take.
        const wrong = yield* connectDatabase("Wrong password", {
          username: "nobody_here",
          password: "not-the-password"
        })
        const reconnect = yield* call("POST", `/api/v1/connector-instances/${wrong.id}/run-query`, {
          as: "member",
          body: { sql: "SELECT 1" }
        })
        expect(reconnect, 424, "ReconnectRequired")
        assert.strictEqual(reconnect.json.action, "replace_credentials")
        assert.strictEqual(reconnect.json.code, "credentials_rejected")
        assert.strictEqual(reconnect.json.instance_id, wrong.id)
        assert.notInclude(reconnect.text, "not-the-password")
        const flagged = yield* call("GET", `/api/v1/connector-instances/${wrong.id}`, { as: "viewer" })
        assert.strictEqual(flagged.json.status, "reconnect_required")

        // Nothing listens on port 1: 503 TransientFailure, retryable.
        const closed = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          body: {
            connector_id: "postgres",
            instance_name: "Closed port",
            configuration: { ...databaseConfiguration, port: 1 }
          }
        })
        yield* call("POST", `/api/v1/connector-instances/${closed.json.id}/credentials`, {
          as: "admin",
          body: { scope_type: "organization", credentials: { username: "closed_port", password: "x" } }
        })
        expect(
          yield* call("POST", `/api/v1/connector-instances/${closed.json.id}/run-query`, {
            as: "member",
            body: { sql: "SELECT 1" }
          }),
          503,
          "TransientFailure",
          true
        )

        // Disabled: 422 ActivityRejected from an activity.
        const database = (yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          body: { connector_id: "postgres", instance_name: "Disabled", configuration: { host: "off", database: "off" } }
        })).json
        yield* call("POST", `/api/v1/connector-instances/${database.id}/disable`, { as: "admin" })
        expect(
          yield* call("POST", `/api/v1/connector-instances/${database.id}/run-query`, {
            as: "member",
            body: { sql: "SELECT 1" }
          }),
          422,
          "ActivityRejected"
        )

        // Another organization's instance does not exist for its admin.
        expect(
          yield* call("GET", `/api/v1/connector-instances/${database.id}`, { as: "outsider" }),
          404,
          "InstanceNotFound"
        )

        // A workspace scope the caller does not belong to.
        expect(
          yield* call("POST", `/api/v1/connector-instances/${database.id}/credentials`, {
            as: "admin",
            body: {
              scope_type: "workspace",
              scope_id: "0190a000-0000-7000-8000-00000000abcd",
              credentials: databaseCredentials
            }
          }),
          403,
          "ScopeForbidden"
        )
      })
    )

    it.effect("the permission matrix: viewer reads, member writes instances and user credentials, admin the rest", () =>
      Effect.gen(function* () {
        const database = yield* sharedDatabase
        const instancePath = `/api/v1/connector-instances/${database.id}`
        const checks = [
          { name: "list", method: "GET", path: "/api/v1/connector-instances" },
          { name: "list credentials (masked)", method: "GET", path: `${instancePath}/credentials` },
          {
            name: "create instance",
            method: "POST",
            path: "/api/v1/connector-instances",
            body: (role: string) => ({
              connector_id: "postgres",
              instance_name: `Matrix ${role}`,
              configuration: { host: "matrix.db", database: role }
            })
          },
          {
            name: "user credential",
            method: "POST",
            path: `${instancePath}/credentials`,
            body: () => ({
              scope_type: "user",
              credentials: databaseCredentials
            })
          },
          {
            name: "organization credential",
            method: "POST",
            path: `${instancePath}/credentials`,
            body: () => ({ scope_type: "organization", credentials: databaseCredentials })
          },
          { name: "test", method: "POST", path: `${instancePath}/test-connection`, body: () => ({}) },
          { name: "run query", method: "POST", path: `${instancePath}/run-query`, body: () => ({ sql: "SELECT 1" }) },
          {
            name: "execute ddl",
            method: "POST",
            path: `${instancePath}/execute-ddl`,
            body: () => ({ sql: "CREATE TABLE matrix_t (id int)", confirm: false })
          }
        ] as const
        const allowed = {
          viewer: ["list", "list credentials (masked)"],
          member: ["list", "list credentials (masked)", "create instance", "user credential", "test", "run query"],
          admin: checks.map((c) => c.name)
        } as Record<string, ReadonlyArray<string>>
        const matrix: Record<string, Record<string, number>> = {}
        for (const role of ["viewer", "member", "admin"] as const) {
          matrix[role] = {}
          for (const check of checks) {
            const response = yield* call(check.method, check.path, {
              as: role,
              body: "body" in check ? check.body(role) : undefined
            })
            matrix[role]![check.name] = response.status
            if (allowed[role]!.includes(check.name)) {
              assert.notStrictEqual(response.status, 403, `${role} ${check.name}: ${response.text}`)
              assert.isBelow(response.status, 300, `${role} ${check.name}: ${response.text}`)
            } else {
              assert.strictEqual(response.status, 403, `${role} ${check.name}: ${response.text}`)
              assert.strictEqual(response.json._tag, "Forbidden")
            }
          }
        }
        // Deleting is the admin's alone.
        const victim = yield* call("POST", "/api/v1/connector-instances", {
          as: "member",
          body: {
            connector_id: "postgres",
            instance_name: "Matrix victim",
            configuration: { host: "v", database: "v" }
          }
        })
        for (const role of ["viewer", "member"] as const) {
          assert.strictEqual(
            (yield* call("DELETE", `/api/v1/connector-instances/${victim.json.id}`, { as: role })).status,
            403
          )
        }
        assert.strictEqual(
          (yield* call("DELETE", `/api/v1/connector-instances/${victim.json.id}`, { as: "admin" })).status,
          204
        )
        // The member's user credential is in the member's own scope.
        const versions = yield* call("GET", `${instancePath}/credentials`, { as: "member" })
        assert.isTrue(versions.json.some((v: Json) => v.scope_type === "user" && v.scope_id === userIds.member))
      })
    )

    it.effect("serves an OpenAPI 3.1 document that an independent validator accepts", () =>
      Effect.gen(function* () {
        const response = yield* call("GET", "/openapi.json")
        assert.strictEqual(response.status, 200)
        assert.strictEqual(response.json.openapi, "3.1.0")
        const result = yield* Effect.promise(() => new Validator().validate(response.json))
        assert.isTrue(result.valid, JSON.stringify(result.errors ?? null).slice(0, 2000))
        const paths = Object.keys(response.json.paths)
        assert.include(paths, "/api/v1/connector-instances/{instance_id}/execute-ddl")
        const create = response.json.paths["/api/v1/connector-instances"].post
        assert.includeMembers(Object.keys(create.responses), ["201", "401", "403", "404", "409", "422", "424", "503"])
      })
    )

    it.effect("serves the API reference page with everything it loads inline (no CDN)", () =>
      Effect.gen(function* () {
        const page = yield* call("GET", "/docs")
        assert.strictEqual(page.status, 200)
        assert.include(page.contentType ?? "", "text/html")
        assert.include(page.text, "Patchbay API")
        // No element loads anything from elsewhere: no src or href attribute, no CDN, no Scalar fonts.
        const markup = page.text.replace(/<script>[\s\S]*?<\/script>/g, "<script></script>")
        assert.notMatch(markup, /\s(src|href)\s*=/i)
        assert.notInclude(page.text, "cdn.jsdelivr.net/npm/@scalar/api-reference@")
        assert.include(page.text, '"withDefaultFonts":false')
      })
    )
  })
})
