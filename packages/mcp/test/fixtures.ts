/**
 * Patchbay on memory stores with the PostgreSQL connector, reaching the run's real PostgreSQL on
 * 127.0.0.1, and the organizations, workspaces, agents and connections the MCP tests use.
 */
import * as Authentication from "@patchbay/api/Authentication"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { ActivityError, Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialRefresher, CredentialVault } from "@patchbay/credentials"
import { Patchbay } from "@patchbay/preset"
import { Effect, Layer, Schema } from "effect"
import { McpTools } from "../src/index.js"

export const ids = {
  orgA: "0190a000-0000-7000-8000-0000000000a0",
  orgB: "0190a000-0000-7000-8000-0000000000b0",
  workspaceA1: "0190a000-0000-7000-8000-0000000000a1",
  workspaceA2: "0190a000-0000-7000-8000-0000000000a2",
  agentA: "0190a000-0000-7000-8000-00000000a9e1",
  agentA2: "0190a000-0000-7000-8000-00000000a9e2",
  agentB: "0190a000-0000-7000-8000-00000000b9e1"
} as const

/** The sign-in URL the refused OAuth2 grant points the person to. */
export const reconnectUrl = "https://id.example.test/authorize?state=reconnect-oauth-db"

/** The principals, by bearer token. */
export const principals = {
  "agent-a": { actor: { orgId: ids.orgA, workspaceId: ids.workspaceA1, agentId: ids.agentA }, role: "member" },
  "agent-a2": { actor: { orgId: ids.orgA, workspaceId: ids.workspaceA1, agentId: ids.agentA2 }, role: "member" },
  "agent-b": { actor: { orgId: ids.orgB, agentId: ids.agentB }, role: "member" },
  "viewer-a": { actor: { orgId: ids.orgA, workspaceId: ids.workspaceA1, agentId: ids.agentA }, role: "viewer" }
} as const satisfies Record<string, typeof Authentication.Principal.Encoded>

export type Token = keyof typeof principals

export const principal = (token: Token) => Schema.decodeSync(Authentication.Principal)(principals[token])

/** The host's authentication in the tests: `Authorization: Bearer <token>` names a principal. */
export const BearerAuthentication = Layer.succeed(Authentication.Authentication, {
  authenticate: (request) => {
    const token = (request.headers.authorization ?? "").replace(/^Bearer /, "")
    return token in principals
      ? Effect.succeed(principal(token as Token))
      : Effect.fail(new Authentication.Unauthenticated({ message: "a known bearer token is required" }))
  }
})

/**
 * The refresher port as the OAuth2 refresher answers once the authorization server refused the
 * refresh token (`invalid_grant`): the person must sign in again at the recorded URL. Every other
 * instance's credential passes as stored.
 */
const refusingRefresher = Layer.succeed(
  CredentialRefresher.CredentialRefresher,
  CredentialRefresher.CredentialRefresher.of({
    refresh: (instance, resolved) =>
      instance.instanceName === "oauth-db"
        ? Effect.fail(
            new ActivityError.ReconnectRequired({
              instanceId: instance.id,
              instanceName: instance.instanceName,
              connector: instance.connectorKey,
              reason: "the authorization server refused the refresh token (invalid_grant)",
              code: "refresh_refused",
              action: "reconnect",
              reconnectUrl
            })
          )
        : Effect.succeed(resolved),
    obtain: CredentialRefresher.none.obtain
  })
)

/** Patchbay and the MCP tools on memory stores, with the PostgreSQL connector allowed onto loopback. */
export const PatchbayLive = McpTools.layer.pipe(
  Layer.provideMerge(
    Patchbay.layer({
      store: Patchbay.layerMemory,
      connectors: [PostgresConnector.connector],
      keys: "ephemeral",
      egress: { allowLoopback: true },
      refresher: refusingRefresher
    })
  )
)

const as = (actor: typeof Actor.ActorInfo.Encoded) => Effect.provide(Actor.layer(actor))

/** The password the revoked credential held; no tool result may show it. */
export const revokedPassword = "revoked-secret-Zq81"

/**
 * The connections: in organization A an org-level `warehouse` (org credential), `agent-db` (a
 * credential of agent A's own), `revoked-db` (its only credential revoked), `oauth-db` (its token
 * refused) and `ws2-db` in another workspace; in organization B `other-org-db`. Returns their ids.
 */
export const seed = (databaseUrl: string) =>
  Effect.gen(function* () {
    const url = new URL(databaseUrl)
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const configuration = (database: string) => ({
      host: url.hostname,
      port: Number(url.port),
      database,
      ssl_mode: "disable"
    })
    const superuser = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    const database = url.pathname.slice(1)
    const admin = { orgId: ids.orgA }

    const create = (instanceName: string, db: string, workspaceId: string | null = null) =>
      instances.create({ connector: "postgres", instanceName, configuration: configuration(db), workspaceId })
    const organization = { type: "organization" as const, id: ids.orgA }

    const warehouse = yield* create("warehouse", database).pipe(as(admin))
    yield* vault.create({ instanceId: warehouse.id, scope: organization, credentials: superuser }).pipe(as(admin))

    // Another database of the same server, so that it is another account (accounts are unique per organization).
    const agentDb = yield* create("agent-db", "template1").pipe(as(admin))
    yield* vault
      .create({ instanceId: agentDb.id, scope: { type: "agent", id: ids.agentA }, credentials: superuser })
      .pipe(as(principals["agent-a"].actor))

    const revokedDb = yield* create("revoked-db", database).pipe(as(admin))
    const revoked = yield* vault
      .create({
        instanceId: revokedDb.id,
        scope: organization,
        credentials: { username: "mcp_revoked", password: revokedPassword }
      })
      .pipe(as(admin))
    yield* vault.revoke(revoked.id).pipe(as(admin))

    const oauthDb = yield* create("oauth-db", database).pipe(as(admin))
    yield* vault
      .create({ instanceId: oauthDb.id, scope: organization, credentials: { username: "mcp_oauth", password: "x" } })
      .pipe(as(admin))

    const ws2Db = yield* create("ws2-db", database, ids.workspaceA2).pipe(as(admin))
    const otherOrgDb = yield* create("other-org-db", database).pipe(as({ orgId: ids.orgB }))

    return {
      warehouse: warehouse.id,
      agentDb: agentDb.id,
      revokedDb: revokedDb.id,
      oauthDb: oauthDb.id,
      ws2Db: ws2Db.id,
      otherOrgDb: otherOrgDb.id
    }
  })
