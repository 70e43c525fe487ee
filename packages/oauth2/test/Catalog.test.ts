/**
 * Every OAuth2 authorization-code entry of connector-http's catalog runs the flow with PKCE against
 * one oidc-provider on 127.0.0.1: the host's registration for the entry is `Catalog.registration`
 * with each endpoint pointed at the provider (the authorization server) or at a node:http who-am-I
 * API (the entry's identity endpoint, answering at the entry's path) — never through an instance's
 * configuration. Each sign-in yields a stored token set that the entry's descriptor accepts, and
 * the identity the entry declares. A new OAuth2 entry is covered without a change here.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Catalog, HttpConnector } from "@patchbay/connector-http"
import {
  AuditLog,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  EgressPolicy,
  InstanceRepository,
  PendingAuthorizationRepository,
  RefreshLock,
  Transactions
} from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { Cause, Effect, Either, Exit, Layer, Option, Redacted, Schema } from "effect"
import { OAuth2, OAuth2Clients } from "../src/index.js"
import { appClient, authorizeInBrowser, redirectUri, start, type TestProvider } from "./support/provider.js"
import { actor } from "./support/stack.js"
import * as WhoAmI from "./support/whoAmI.js"

const entries = Catalog.entries.filter((entry) => entry.auth.includes("oauth2_authorization_code"))
const registrations = entries.map((entry) => ({ entry, registration: Option.getOrThrow(Catalog.registration(entry)) }))

let server: TestProvider
let whoAmI: WhoAmI.WhoAmI
beforeAll(async () => {
  // The provider accepts every scope the catalog asks for (a comma-joined list is one scope), and
  // grants an app scope to entries that ask for none (their scopes live in the provider's app).
  server = await start({
    scopes: registrations.flatMap(({ registration }) => registration.scopes),
    appScope: "api"
  })
  whoAmI = await WhoAmI.start(() => server)
})
afterAll(async () => {
  await whoAmI.close()
  await server.close()
})

/** The host's registration of an entry, every endpoint moved to 127.0.0.1, the rest as the catalog says. */
const localRegistration = ({ registration }: (typeof registrations)[number]) => ({
  ...registration,
  ...(registration.issuer === undefined ? {} : { issuer: server.issuer }),
  authorizationEndpoint: `${server.issuer}/auth`,
  tokenEndpoint: `${server.issuer}/token`,
  ...(registration.userinfoEndpoint === undefined ? {} : { userinfoEndpoint: `${server.issuer}/me` }),
  ...(registration.identity === undefined
    ? {}
    : {
        identity: {
          ...registration.identity,
          endpoint: `${whoAmI.url}${new URL(registration.identity.endpoint).pathname}`
        }
      }),
  clientId: appClient.id,
  clientSecret: appClient.secret,
  redirectUri
})

const stack = Layer.suspend(() => {
  const clients = OAuth2Clients.layer({
    connectors: Object.fromEntries(registrations.map((item) => [item.entry.key, localRegistration(item)]))
  })
  const egress = EgressPolicy.layer({ allowLoopback: true })
  const registry = Layer.unwrapEffect(
    Effect.map(Effect.forEach(Catalog.descriptors, HttpConnector.connector), ConnectorRegistry.layer)
  ).pipe(Layer.provide(egress))
  const base = CredentialVault.layer.pipe(
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(
      Layer.mergeAll(
        CredentialRepository.layerMemory,
        InstanceRepository.layerMemory,
        AuditLog.layerMemory,
        PendingAuthorizationRepository.layerMemory,
        RefreshLock.layerMemory,
        Transactions.layerMemory,
        registry,
        Envelope.layer.pipe(Layer.provideMerge(Keyring.layerEphemeral())),
        Fingerprint.layerEphemeral
      )
    )
  )
  return Layer.merge(
    OAuth2.layerWithResolver({ allowInsecureRequests: true }).pipe(
      Layer.provideMerge(base),
      Layer.provide(Layer.merge(clients, egress))
    ),
    actor
  )
})

describe("every OAuth2 entry of the catalog against oidc-provider", () => {
  it("the catalog has OAuth2 entries, each with a descriptor on the HTTP driver", () => {
    assert.isAtLeast(entries.length, 20)
    for (const entry of entries) assert.isTrue(Option.isSome(Catalog.descriptor(entry)), entry.key)
  })

  it.effect(
    "authorization code with PKCE: a stored token set the descriptor accepts, and the identity the entry declares",
    () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances.ConnectorInstances
        const oauth2 = yield* OAuth2.OAuth2
        const resolver = yield* CredentialResolver.CredentialResolver
        const outcomes: Array<string> = []
        for (const item of registrations) {
          const { entry, registration } = item
          const account = `account-of-${entry.key}`
          server.login.accountId = account
          whoAmI.shape.path = registration.identity?.accountId ?? "id"
          const asked = whoAmI.requests.length
          const view = yield* instances.create({
            connector: entry.key,
            instanceName: `${entry.name} - team`,
            authType: "oauth2_authorization_code",
            configuration: entry.baseUrl === undefined ? { base_url: `https://${entry.key}.example.test` } : {}
          })
          const { url } = yield* oauth2.startAuthorization({ instanceId: view.id, redirectUri })
          const sent = new URL(url).searchParams
          assert.strictEqual(sent.get("code_challenge_method"), "S256", entry.key)
          assert.strictEqual(sent.get("scope") ?? "", registration.scopes.join(" "), entry.key)
          for (const [name, value] of Object.entries(registration.authorizationParameters)) {
            assert.strictEqual(sent.get(name), value, `${entry.key}: ${name}`)
          }
          const callback = yield* Effect.promise(() => authorizeInBrowser(url))
          const completed = yield* Effect.exit(oauth2.completeAuthorization(callback))
          if (Exit.isFailure(completed)) {
            const failure = Cause.squash(completed.cause)
            outcomes.push(`${entry.key}: ${failure instanceof Error ? failure.message : String(failure)}`)
            continue
          }
          const resolved = yield* resolver.resolve(yield* instances.getInstance(view.id))
          const secrets = Redacted.value(resolved.secrets) as Record<string, unknown>
          assert.isString(secrets.access_token, entry.key)
          const accepted = Schema.decodeUnknownEither(Option.getOrThrow(Catalog.descriptor(entry)).credentials)(secrets)
          assert.isTrue(
            Either.isRight(accepted),
            `${entry.key}: the descriptor's credential schema accepts the token set`
          )
          const identity = secrets.account_identity
          const declared =
            registration.scopes.includes("openid") || registration.userinfoEndpoint !== undefined
              ? JSON.stringify(["oidc", server.issuer, account])
              : registration.identity !== undefined
                ? JSON.stringify(["who_am_i", server.issuer, account])
                : null
          if (identity !== declared) outcomes.push(`${entry.key}: identity ${String(identity)}, expected ${declared}`)
          const viaWhoAmI = declared?.startsWith('["who_am_i"') === true
          assert.strictEqual(whoAmI.requests.length - asked, viaWhoAmI ? 1 : 0, entry.key)
          if (viaWhoAmI) {
            assert.strictEqual(whoAmI.requests.at(-1), registration.identity?.method, entry.key)
            assert.strictEqual(whoAmI.bodies.at(-1), registration.identity?.body ?? "", entry.key)
          }
          const fingerprint = (yield* instances.getInstance(view.id)).accountFingerprint
          assert.strictEqual(fingerprint === null, declared === null, `${entry.key}: fingerprint`)
        }
        assert.deepStrictEqual(outcomes, [])
      }).pipe(Effect.provide(stack)),
    240_000
  )
})
