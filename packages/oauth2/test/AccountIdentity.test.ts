/**
 * Who an OAuth2 instance reaches: token sets are fingerprinted by the account that signed in (the
 * id token's issuer and subject, else the registration's who-am-I endpoint) or by the client at its
 * token endpoint, never by the base URL alone; a reconnect as another account is refused; no path
 * turns DuplicateAccount into a defect. Refresh-token deadlines: announced, or documented.
 */
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import { HttpApiDescriptor } from "@patchbay/connector-http"
import {
  AuditLog,
  ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  Ids,
  InstanceRepository,
  PendingAuthorizationRepository,
  RefreshLock,
  Transactions
} from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { Cause, Effect, Exit, Layer, Option, Redacted, Schema, TestClock } from "effect"
import { OAuth2, OAuth2Clients } from "../src/index.js"
import {
  appClient,
  authorizeInBrowser,
  machineClient,
  redirectUri,
  start,
  type TestProvider
} from "./support/provider.js"
import { actor, clients, loopback, orgId } from "./support/stack.js"
import * as WhoAmI from "./support/whoAmI.js"

let server: TestProvider
let whoAmI: WhoAmI.WhoAmI
beforeAll(async () => {
  server = await start()
  whoAmI = await WhoAmI.start(() => server)
})
afterAll(async () => {
  await whoAmI.close()
  await server.close()
})
beforeEach(() => {
  server.reset()
  whoAmI.requests.length = 0
  whoAmI.shape.path = "data.user.id"
})

const baseUrl = "https://mail.example.test"

/** An HTTP API as connector-http defines it: a base URL and its default account fields. */
const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000b7"),
  key: "oauth-api",
  name: "Mail API",
  version: "1.0.0",
  authProfiles: ["oauth2_authorization_code", "oauth2_client_credentials"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ base_url: Schema.String, oauth2: OAuth2Clients.InstanceClientConfiguration }),
  credentials: HttpApiDescriptor.OAuth2Credentials,
  secretFields: ["access_token", "refresh_token", "id_token", "client_secret"],
  accountFields: HttpApiDescriptor.httpApi.accountFields,
  supportsSchemaDiscovery: false
} satisfies import("@patchbay/core").ConnectorDescriptor.ConnectorDescriptor

const connector = ConnectorDriver.make(descriptor, {
  test: () => Effect.succeed("ok"),
  healthCheck: () => Effect.void
})

const base = () =>
  CredentialVault.layer.pipe(
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(
      Layer.mergeAll(
        CredentialRepository.layerMemory,
        InstanceRepository.layerMemory,
        AuditLog.layerMemory,
        PendingAuthorizationRepository.layerMemory,
        RefreshLock.layerMemory,
        Transactions.layerMemory,
        ConnectorRegistry.layer([connector]),
        Envelope.layer.pipe(Layer.provideMerge(Keyring.layerEphemeral())),
        Fingerprint.layerEphemeral
      )
    )
  )

const stack = (registration: Layer.Layer<OAuth2Clients.OAuth2Clients> = clients) =>
  Layer.merge(
    OAuth2.layerWithResolver({ allowInsecureRequests: true }).pipe(
      Layer.provideMerge(base()),
      Layer.provide(Layer.merge(registration, loopback))
    ),
    actor
  )

/** The host's registration holds the machine client's secret: client-credentials instances fetch their first token. */
const machineRegistration = Layer.suspend(() =>
  OAuth2Clients.layer({
    connectors: {
      "oauth-api": { issuer: server.issuer, clientId: machineClient.id, clientSecret: machineClient.secret }
    }
  })
)

/**
 * The host's registration of a provider without id tokens or userinfo (as the catalog's GitHub or
 * Slack entries): explicit endpoints and a who-am-I endpoint answering the account at a path.
 */
const whoAmIRegistration = (options: { readonly refreshTokenLifetime?: number } = {}) =>
  Layer.suspend(() =>
    OAuth2Clients.layer({
      connectors: {
        "oauth-api": {
          authorizationEndpoint: `${server.issuer}/auth`,
          tokenEndpoint: `${server.issuer}/token`,
          clientId: appClient.id,
          clientSecret: appClient.secret,
          redirectUri,
          identity: { endpoint: `${whoAmI.url}/v1/me`, accountId: "data.user.id" },
          ...options
        }
      }
    })
  )

const createInstance = (
  authType: "oauth2_authorization_code" | "oauth2_client_credentials",
  name: string,
  scopes: ReadonlyArray<string> = ["openid", "offline_access"]
) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const view = yield* instances.create({
      connector: "oauth-api",
      instanceName: name,
      authType,
      configuration: {
        base_url: baseUrl,
        oauth2:
          authType === "oauth2_authorization_code" ? { scopes, authorization_parameters: { prompt: "consent" } } : {}
      }
    })
    return yield* instances.getInstance(view.id)
  })

/** Signs in at the provider as `account` and completes the authorization for `instanceId`. */
const signIn = (instanceId: string, account: string) =>
  Effect.gen(function* () {
    const oauth2 = yield* OAuth2.OAuth2
    server.login.accountId = account
    const { url } = yield* oauth2.startAuthorization({ instanceId, redirectUri })
    const callback = yield* Effect.promise(() => authorizeInBrowser(url))
    return yield* Effect.exit(oauth2.completeAuthorization(callback))
  })

const fingerprintOf = (instanceId: string) =>
  Effect.map(
    Effect.flatMap(ConnectorInstances.ConnectorInstances, (instances) => instances.getInstance(instanceId)),
    (instance) => instance.accountFingerprint
  )

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  if (Exit.isSuccess(exit)) throw new Error("unreachable")
  const failure = Cause.failureOption(exit.cause)
  assert.isTrue(Option.isSome(failure), `expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return Option.getOrThrow(failure)
}

describe("authorization code", () => {
  it.effect("two accounts of one provider at one base URL are two instances (was: DuplicateAccount)", () =>
    Effect.gen(function* () {
      const team = yield* createInstance("oauth2_authorization_code", "Mail - team1")
      const personal = yield* createInstance("oauth2_authorization_code", "Mail - personal")
      assert.isTrue(Exit.isSuccess(yield* signIn(team.id, "team1")))
      assert.isTrue(Exit.isSuccess(yield* signIn(personal.id, "personal")))
      const [a, b] = [yield* fingerprintOf(team.id), yield* fingerprintOf(personal.id)]
      assert.isString(a)
      assert.isString(b)
      assert.notStrictEqual(a, b)
    }).pipe(Effect.provide(stack()))
  )

  it.effect("the same account twice is DuplicateAccount naming the existing instance", () =>
    Effect.gen(function* () {
      const first = yield* createInstance("oauth2_authorization_code", "Mail - first")
      const second = yield* createInstance("oauth2_authorization_code", "Mail - again")
      assert.isTrue(Exit.isSuccess(yield* signIn(first.id, "same-person")))
      const error = failureOf(yield* signIn(second.id, "same-person"))
      assert.strictEqual(error._tag, "DuplicateAccount")
      if (error._tag === "DuplicateAccount") assert.strictEqual(error.existingInstanceId, first.id)
      assert.isNull(yield* fingerprintOf(second.id))
    }).pipe(Effect.provide(stack()))
  )

  it.effect("a reconnect as another account is ReconnectRequired different_account; as the same one it succeeds", () =>
    Effect.gen(function* () {
      const instance = yield* createInstance("oauth2_authorization_code", "Mail - reconnect")
      assert.isTrue(Exit.isSuccess(yield* signIn(instance.id, "owner")))
      const before = yield* fingerprintOf(instance.id)
      const error = failureOf(yield* signIn(instance.id, "somebody-else"))
      assert.strictEqual(error._tag, "ReconnectRequired")
      if (error._tag === "ReconnectRequired") assert.strictEqual(error.code, "different_account")
      assert.strictEqual(yield* fingerprintOf(instance.id), before)
      const vault = yield* CredentialVault.CredentialVault
      assert.strictEqual((yield* vault.list(instance.id)).length, 1)
      const again = yield* signIn(instance.id, "owner")
      assert.isTrue(Exit.isSuccess(again))
      assert.strictEqual((yield* vault.list(instance.id)).length, 2)
      assert.strictEqual(yield* fingerprintOf(instance.id), before)
    }).pipe(Effect.provide(stack()))
  )
})

/** The stored account identity of an instance's newest version. */
const identityOf = (instanceId: string) =>
  Effect.gen(function* () {
    const resolver = yield* CredentialResolver.CredentialResolver
    const instance = yield* (yield* ConnectorInstances.ConnectorInstances).getInstance(instanceId)
    const resolved = yield* resolver.resolve(instance)
    return (Redacted.value(resolved.secrets) as Record<string, unknown>).account_identity
  })

describe("authorization code, identity from the who-am-I endpoint (no id token, no userinfo)", () => {
  /** No `openid` scope: the provider sends no id token, and the registration names no userinfo endpoint. */
  const apiScopes = ["api"]

  it.effect("two accounts are two instances, each fingerprinted by the account id the endpoint answers", () =>
    Effect.gen(function* () {
      const team = yield* createInstance("oauth2_authorization_code", "Who - team1", apiScopes)
      const personal = yield* createInstance("oauth2_authorization_code", "Who - personal", apiScopes)
      assert.isTrue(Exit.isSuccess(yield* signIn(team.id, "team1")))
      assert.isTrue(Exit.isSuccess(yield* signIn(personal.id, "personal")))
      assert.deepStrictEqual(whoAmI.requests, ["GET", "GET"])
      assert.strictEqual(yield* identityOf(team.id), JSON.stringify(["who_am_i", server.issuer, "team1"]))
      assert.strictEqual(yield* identityOf(personal.id), JSON.stringify(["who_am_i", server.issuer, "personal"]))
      const [a, b] = [yield* fingerprintOf(team.id), yield* fingerprintOf(personal.id)]
      assert.isString(a)
      assert.isString(b)
      assert.notStrictEqual(a, b)
    }).pipe(Effect.provide(stack(whoAmIRegistration())))
  )

  it.effect("the same account twice is DuplicateAccount naming the existing instance", () =>
    Effect.gen(function* () {
      const first = yield* createInstance("oauth2_authorization_code", "Who - first", apiScopes)
      const second = yield* createInstance("oauth2_authorization_code", "Who - again", apiScopes)
      assert.isTrue(Exit.isSuccess(yield* signIn(first.id, "same-person")))
      const error = failureOf(yield* signIn(second.id, "same-person"))
      assert.strictEqual(error._tag, "DuplicateAccount")
      if (error._tag === "DuplicateAccount") assert.strictEqual(error.existingInstanceId, first.id)
      assert.isNull(yield* fingerprintOf(second.id))
    }).pipe(Effect.provide(stack(whoAmIRegistration())))
  )

  it.effect("a reconnect as another account is ReconnectRequired different_account, and nothing is stored", () =>
    Effect.gen(function* () {
      const instance = yield* createInstance("oauth2_authorization_code", "Who - reconnect", apiScopes)
      assert.isTrue(Exit.isSuccess(yield* signIn(instance.id, "owner")))
      const before = yield* fingerprintOf(instance.id)
      const error = failureOf(yield* signIn(instance.id, "somebody-else"))
      assert.strictEqual(error._tag, "ReconnectRequired")
      if (error._tag === "ReconnectRequired") assert.strictEqual(error.code, "different_account")
      assert.strictEqual(yield* fingerprintOf(instance.id), before)
      assert.lengthOf(yield* (yield* CredentialVault.CredentialVault).list(instance.id), 1)
      assert.strictEqual(yield* identityOf(instance.id), JSON.stringify(["who_am_i", server.issuer, "owner"]))
    }).pipe(Effect.provide(stack(whoAmIRegistration())))
  )

  it.effect("an answer without an account id at the path is InvalidConfiguration, and nothing is stored", () =>
    Effect.gen(function* () {
      whoAmI.shape.path = "login"
      const instance = yield* createInstance("oauth2_authorization_code", "Who - wrong path", apiScopes)
      const error = failureOf(yield* signIn(instance.id, "someone"))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      if (error._tag === "InvalidConfiguration") assert.include(error.detail, "data.user.id")
      assert.lengthOf(yield* (yield* CredentialVault.CredentialVault).list(instance.id), 0)
    }).pipe(Effect.provide(stack(whoAmIRegistration())))
  )

  it.effect("an id token wins: the who-am-I endpoint is not asked when the provider sends one", () =>
    Effect.gen(function* () {
      const instance = yield* createInstance("oauth2_authorization_code", "Who - oidc")
      assert.isTrue(Exit.isSuccess(yield* signIn(instance.id, "oidc-person")))
      assert.deepStrictEqual(whoAmI.requests, [])
      assert.strictEqual(yield* identityOf(instance.id), JSON.stringify(["oidc", server.issuer, "oidc-person"]))
    }).pipe(Effect.provide(stack(whoAmIRegistration())))
  )
})

describe("client credentials", () => {
  it.effect("connecting a second instance with the same client is a typed DuplicateAccount", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const first = yield* createInstance("oauth2_client_credentials", "machine 1")
      const second = yield* createInstance("oauth2_client_credentials", "machine 2")
      const client = { clientId: machineClient.id, clientSecret: machineClient.secret }
      yield* oauth2.connectClientCredentials({ instanceId: first.id, ...client })
      assert.isString(yield* fingerprintOf(first.id))
      const error = failureOf(yield* Effect.exit(oauth2.connectClientCredentials({ instanceId: second.id, ...client })))
      assert.strictEqual(error._tag, "DuplicateAccount")
      if (error._tag === "DuplicateAccount") assert.strictEqual(error.existingInstanceId, first.id)
    }).pipe(Effect.provide(stack()))
  )

  it.effect("a first token on demand for a second instance of the host's client fails typed, naming the first", () =>
    Effect.gen(function* () {
      const resolver = yield* CredentialResolver.CredentialResolver
      const first = yield* createInstance("oauth2_client_credentials", "on demand 1")
      const second = yield* createInstance("oauth2_client_credentials", "on demand 2")
      yield* resolver.resolve(first)
      const error = failureOf(yield* Effect.exit(resolver.resolve(second)))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      if (error._tag === "InvalidConfiguration") assert.include(error.detail, first.id)
    }).pipe(Effect.provide(stack(machineRegistration)))
  )
})

describe("manual credential store", () => {
  it.effect("token sets without an identity never clash; the same stated identity is DuplicateAccount", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault.CredentialVault
      const scope = { type: "organization", id: orgId } as const
      const a = yield* createInstance("oauth2_authorization_code", "manual a")
      const b = yield* createInstance("oauth2_authorization_code", "manual b")
      yield* vault.create({ instanceId: a.id, scope, credentials: { access_token: "token-a" } })
      yield* vault.create({ instanceId: b.id, scope, credentials: { access_token: "token-b" } })
      assert.isNull(yield* fingerprintOf(a.id))
      assert.isNull(yield* fingerprintOf(b.id))
      const identity = JSON.stringify(["oidc", "https://issuer.example.test", "someone"])
      yield* vault.create({ instanceId: a.id, scope, credentials: { access_token: "a2", account_identity: identity } })
      const error = failureOf(
        yield* Effect.exit(
          vault.create({ instanceId: b.id, scope, credentials: { access_token: "b2", account_identity: identity } })
        )
      )
      assert.strictEqual(error._tag, "DuplicateAccount")
      if (error._tag === "DuplicateAccount") assert.strictEqual(error.existingInstanceId, a.id)
    }).pipe(Effect.provide(stack()))
  )
})

describe("refresh-token deadlines", () => {
  it.effect("refresh_token_expires_in is stored and listExpiring warns before the refresh token dies", () =>
    Effect.gen(function* () {
      // The token set's times are the (frozen) test clock's: the deadline is exact.
      const start = Date.now()
      yield* TestClock.setTime(start)
      server.ttl.refreshToken = 3 * 86400
      server.announce.refreshTokenExpiresIn = true
      const instance = yield* createInstance("oauth2_authorization_code", "Mail - deadline")
      assert.isTrue(Exit.isSuccess(yield* signIn(instance.id, "deadline")))
      const vault = yield* CredentialVault.CredentialVault
      const [version] = yield* vault.list(instance.id)
      const deadline = version!.labels.refresh_token_expires_at
      assert.isNumber(deadline)
      assert.strictEqual(deadline, Math.floor(start / 1000) + 3 * 86400)
      // The access token lives an hour and has no vault expiry: only the refresh token is listed.
      const soon = yield* vault.listExpiring({ daysAhead: 4 })
      const entries = soon.filter((e) => e.instanceId === instance.id)
      assert.deepStrictEqual(
        entries.map((e) => e.kind),
        ["refresh_token"]
      )
      assert.strictEqual(entries[0]!.expiresAt.getTime(), (deadline as number) * 1000)
      assert.isTrue(entries[0]!.daysRemaining > 2.9 && entries[0]!.daysRemaining <= 3)
      assert.lengthOf(
        (yield* vault.listExpiring({ daysAhead: 2 })).filter((e) => e.instanceId === instance.id),
        0
      )
      assert.isUndefined(entries[0]!.reconnectUrl)
      // OAuth2.listExpiring adds where to reconnect: an authorization URL at the provider.
      const [withLink] = (yield* (yield* OAuth2.OAuth2).listExpiring({ daysAhead: 4 })).filter(
        (e) => e.instanceId === instance.id
      )
      assert.strictEqual(withLink!.kind, "refresh_token")
      assert.isTrue(withLink!.reconnectUrl?.startsWith(server.issuer))
      assert.strictEqual(new URL(withLink.reconnectUrl!).searchParams.get("code_challenge_method"), "S256")
    }).pipe(Effect.provide(stack()))
  )

  it.effect(
    "without refresh_token_expires_in the registration's documented lifetime is the deadline, renewed on rotation",
    () =>
      Effect.gen(function* () {
        const start = Date.now()
        yield* TestClock.setTime(start)
        const week = 7 * 86400
        const instance = yield* createInstance("oauth2_authorization_code", "Mail - documented")
        assert.isTrue(Exit.isSuccess(yield* signIn(instance.id, "documented")))
        const vault = yield* CredentialVault.CredentialVault
        const [first] = yield* vault.list(instance.id)
        const deadline = first!.labels.refresh_token_expires_at as number
        assert.strictEqual(deadline, Math.floor(start / 1000) + week)
        const oauth2 = yield* OAuth2.OAuth2
        const listed = (yield* oauth2.listExpiring({ daysAhead: 8 })).filter((e) => e.instanceId === instance.id)
        assert.deepStrictEqual(
          listed.map((e) => e.kind),
          ["refresh_token"]
        )
        assert.strictEqual(listed[0]!.expiresAt.getTime(), deadline * 1000)
        assert.isTrue(listed[0]!.reconnectUrl?.startsWith(`${server.issuer}/auth?`))
        assert.lengthOf(
          (yield* oauth2.listExpiring({ daysAhead: 6 })).filter((e) => e.instanceId === instance.id),
          0
        )
        // A day later the access token has expired: the refresh rotates the refresh token (the
        // provider rotates), and the new one lives a documented week from then.
        yield* TestClock.adjust("1 day")
        const resolver = yield* CredentialResolver.CredentialResolver
        yield* resolver.resolve(yield* (yield* ConnectorInstances.ConnectorInstances).getInstance(instance.id))
        assert.strictEqual(server.counts.refresh_token, 1)
        const versions = yield* vault.list(instance.id)
        assert.lengthOf(versions, 2)
        const renewed = versions.find((v) => v.id !== first.id)!.labels.refresh_token_expires_at as number
        assert.strictEqual(renewed, deadline + 86400)
      }).pipe(Effect.provide(stack(whoAmIRegistration({ refreshTokenLifetime: 7 * 86400 }))))
  )
})
