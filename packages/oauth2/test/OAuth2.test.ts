import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import {
  ActivityError,
  Actor,
  type ConnectorInstance,
  ConnectorInstances,
  CredentialRefreshState,
  CredentialRepository,
  EgressPolicy,
  type ResolvedCredential
} from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Chunk, Clock, Duration, Effect, Exit, Layer, Redacted, Stream, TestClock } from "effect"
import { OAuth2, OAuth2Clients, RefreshProtocol } from "../src/index.js"
import { authorizeInBrowser, machineClient, redirectUri, start, type TestProvider } from "./support/provider.js"
import { actor, clients, createInstance, loopback, memory, memoryBase, orgId, userId } from "./support/stack.js"

let server: TestProvider
beforeAll(async () => {
  server = await start()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const count = (grant: string) => server.counts[grant] ?? 0
const secretsOf = (resolved: ResolvedCredential.ResolvedCredential) =>
  Redacted.value(resolved.secrets) as Readonly<Record<string, unknown>>

/** Starts at the real time, so token expiries read naturally; TestClock moves it on. */
const realTime = TestClock.setTime(Date.now())

const resolve = (instance: ConnectorInstance.ConnectorInstance) =>
  Effect.flatMap(CredentialResolver.CredentialResolver, (resolver) => resolver.resolve(instance))

/** Runs the whole authorization-code flow over HTTP and returns the connected instance. */
const connect = (name = "code flow") =>
  Effect.gen(function* () {
    const oauth2 = yield* OAuth2.OAuth2
    const instance = yield* createInstance(server.issuer, "oauth2_authorization_code", name)
    const { url } = yield* oauth2.startAuthorization({ instanceId: instance.id, redirectUri })
    const callback = yield* Effect.promise(() => authorizeInBrowser(url))
    const metadata = yield* oauth2.completeAuthorization(callback)
    return { instance, metadata, callback, url }
  })

const run = <A, E>(
  effect: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof memory>> | import("@patchbay/core").Actor.Actor>,
  options: OAuth2.Options = {}
) => effect.pipe(Effect.provide(Layer.merge(memory(options), actor)))

describe("authorization code", () => {
  it.effect("drives the flow with PKCE and stores the token set as a version", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance, metadata, url } = yield* connect()
        const params = new URL(url).searchParams
        assert.strictEqual(params.get("code_challenge_method"), "S256")
        assert.isTrue((params.get("code_challenge") ?? "").length >= 43)
        assert.isTrue((params.get("state") ?? "").length >= 20)
        assert.strictEqual(metadata.version, 1)
        assert.strictEqual(metadata.labels.oauth2_grant, "authorization_code")
        const resolved = yield* resolve(instance)
        const secrets = secretsOf(resolved)
        assert.notStrictEqual(metadata.masked.access_token, secrets.access_token)
        assert.notInclude(JSON.stringify(metadata), secrets.refresh_token as string)
        assert.isString(secrets.access_token)
        assert.isString(secrets.refresh_token)
        assert.isNumber(secrets.expires_at)
        assert.strictEqual(resolved.metadata.id, metadata.id)
        const stored = yield* (yield* ConnectorInstances.ConnectorInstances).getInstance(instance.id)
        assert.strictEqual(stored.status, "active")
        assert.isTrue(stored.hasCredentials)
        assert.strictEqual(count("authorization_code"), 1)
        assert.strictEqual(count("refresh_token"), 0)
      })
    )
  )

  it.effect("refuses a replayed callback without a second token request", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { callback } = yield* connect()
        const oauth2 = yield* OAuth2.OAuth2
        const replay = yield* Effect.flip(oauth2.completeAuthorization(callback))
        assert.strictEqual(replay._tag, "AuthorizationStateRejected")
        assert.strictEqual(count("authorization_code"), 1)
      })
    )
  )

  it.effect("refuses an expired authorization", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const oauth2 = yield* OAuth2.OAuth2
        const instance = yield* createInstance(server.issuer, "oauth2_authorization_code")
        const { url } = yield* oauth2.startAuthorization({ instanceId: instance.id, redirectUri })
        const callback = yield* Effect.promise(() => authorizeInBrowser(url))
        yield* TestClock.adjust(Duration.minutes(11))
        const error = yield* Effect.flip(oauth2.completeAuthorization(callback))
        assert.strictEqual(error._tag, "AuthorizationStateRejected")
        assert.strictEqual(count("authorization_code"), 0)
      })
    )
  )

  it.effect("reports a callback the person declined", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const oauth2 = yield* OAuth2.OAuth2
        const instance = yield* createInstance(server.issuer, "oauth2_authorization_code")
        const { url } = yield* oauth2.startAuthorization({ instanceId: instance.id, redirectUri })
        const state = new URL(url).searchParams.get("state")!
        const callback = `${redirectUri}?error=access_denied&state=${state}&iss=${encodeURIComponent(server.issuer)}`
        const error = yield* Effect.flip(oauth2.completeAuthorization(callback))
        assert.strictEqual(error._tag, "AuthorizationDenied")
      })
    )
  )
})

describe("completing as whom", () => {
  const otherUser = "0190a000-0000-7000-8000-0000000000c2"
  const as = (info: typeof Actor.ActorInfo.Encoded) => Effect.provide(Actor.layer(info))

  it.effect("completeAuthorization acts as the current actor, who must be allowed to write the scope", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const oauth2 = yield* OAuth2.OAuth2
        const instance = yield* createInstance(server.issuer, "oauth2_authorization_code")
        const scope = { type: "user", id: userId } as const
        const started = yield* oauth2
          .startAuthorization({ instanceId: instance.id, redirectUri, scope })
          .pipe(as({ orgId, userId }))
        const callback = yield* Effect.promise(() => authorizeInBrowser(started.url))
        // Another person of the organization completing it may not write this user's credential.
        const error = yield* Effect.flip(oauth2.completeAuthorization(callback).pipe(as({ orgId, userId: otherUser })))
        assert.strictEqual(error._tag, "ScopeForbidden")
        const vault = yield* CredentialVault.CredentialVault
        assert.strictEqual((yield* vault.list(instance.id)).length, 0)

        // Another organization's actor gets nothing either.
        const again = yield* oauth2
          .startAuthorization({ instanceId: instance.id, redirectUri, scope })
          .pipe(as({ orgId, userId }))
        const foreign = yield* Effect.flip(
          oauth2
            .completeAuthorization(yield* Effect.promise(() => authorizeInBrowser(again.url)))
            .pipe(as({ orgId: "0190b000-0000-7000-8000-00000000000b" }))
        )
        assert.strictEqual(foreign._tag, "AuthorizationStateRejected")
        assert.strictEqual((yield* vault.list(instance.id)).length, 0)
      })
    )
  )

  it.effect("completeAuthorizationAsOwner needs no actor: it writes as the owner of the stored scope", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const oauth2 = yield* OAuth2.OAuth2
        const instance = yield* createInstance(server.issuer, "oauth2_authorization_code")
        const started = yield* oauth2
          .startAuthorization({ instanceId: instance.id, redirectUri, scope: { type: "user", id: userId } })
          .pipe(as({ orgId, userId }))
        const callback = yield* Effect.promise(() => authorizeInBrowser(started.url))
        const completeWithoutActor: Effect.Effect<unknown, unknown, never> =
          oauth2.completeAuthorizationAsOwner(callback)
        yield* completeWithoutActor
        const resolved = yield* Effect.flatMap(CredentialResolver.CredentialResolver, (r) => r.resolve(instance)).pipe(
          as({ orgId, userId })
        )
        assert.strictEqual(resolved.metadata.scope.key, `user:${userId}`)
        assert.strictEqual(count("authorization_code"), 1)
      })
    )
  )
})

describe("egress", () => {
  it.effect("every request to the authorization server passes the EgressPolicy the layer requires", () =>
    Effect.gen(function* () {
      yield* realTime
      const oauth2 = yield* OAuth2.OAuth2
      const instance = yield* createInstance(server.issuer, "oauth2_authorization_code")
      const error = yield* Effect.flip(oauth2.startAuthorization({ instanceId: instance.id, redirectUri }))
      assert.strictEqual(error._tag, "EgressDenied")
      assert.strictEqual(server.counts.authorization_code ?? 0, 0)
    }).pipe(
      Effect.provide(
        Layer.merge(
          OAuth2.layerWithResolver({ allowInsecureRequests: true }).pipe(
            Layer.provideMerge(memoryBase()),
            // The default policy denies loopback, where the provider runs.
            Layer.provide(Layer.merge(clients, EgressPolicy.layer()))
          ),
          actor
        )
      )
    )
  )
})

describe("refresh", () => {
  it.effect("adds nothing while the token is fresh", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance, metadata } = yield* connect()
        for (let i = 0; i < 20; i++) {
          assert.strictEqual((yield* resolve(instance)).metadata.id, metadata.id)
        }
        assert.strictEqual(count("refresh_token"), 0)
      })
    )
  )

  it.effect("refreshes a nearly expired token, storing the rotated refresh token as a new version", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance } = yield* connect()
        const before = secretsOf(yield* resolve(instance))
        // Within the floor (10 s): the caller waits for the refresh.
        yield* TestClock.adjust(Duration.seconds(3600 - 5))
        const after = yield* resolve(instance)
        const secrets = secretsOf(after)
        assert.strictEqual(count("refresh_token"), 1)
        assert.strictEqual(after.metadata.version, 2)
        assert.notStrictEqual(secrets.access_token, before.access_token)
        assert.notStrictEqual(secrets.refresh_token, before.refresh_token)
        assert.isTrue((secrets.expires_at as number) > (before.expires_at as number))
        // The new version is what the next resolution reads: no second request.
        assert.strictEqual((yield* resolve(instance)).metadata.id, after.metadata.id)
        assert.strictEqual(count("refresh_token"), 1)
      })
    )
  )

  it.effect("honours a configured skew", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance } = yield* connect()
        yield* TestClock.adjust(Duration.seconds(3600 - 300))
        assert.strictEqual((yield* resolve(instance)).metadata.version, 1)
        yield* TestClock.adjust(Duration.seconds(290))
        assert.strictEqual((yield* resolve(instance)).metadata.version, 1)
        assert.strictEqual(count("refresh_token"), 0)
      }),
      { skew: "5 seconds" }
    )
  )

  it.effect("a token that lives shorter than the skew is refreshed at half its lifetime, not on every resolution", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        server.ttl.accessToken = 30
        const { instance } = yield* connect()
        server.ttl.accessToken = 3600
        assert.strictEqual((yield* resolve(instance)).metadata.version, 1)
        yield* TestClock.adjust(Duration.seconds(10))
        assert.strictEqual((yield* resolve(instance)).metadata.version, 1)
        assert.strictEqual(count("refresh_token"), 0)
        // Refreshed from 15 s on; callers wait from 22.5 s on (the floor is half the 15 s window).
        yield* TestClock.adjust(Duration.seconds(13))
        assert.strictEqual((yield* resolve(instance)).metadata.version, 2)
        assert.strictEqual(count("refresh_token"), 1)
      })
    )
  )

  it.effect("100 concurrent resolutions of an expired token make exactly one token request", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance } = yield* connect()
        yield* TestClock.adjust(Duration.hours(2))
        const results = yield* Effect.all(
          Array.from({ length: 100 }, () => resolve(instance)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(count("refresh_token"), 1)
        const tokens = new Set(results.map((r) => secretsOf(r).access_token))
        assert.strictEqual(tokens.size, 1)
        assert.isTrue(results.every((r) => r.metadata.version === 2))
        const versions = yield* (yield* CredentialVault.CredentialVault).list(instance.id)
        assert.strictEqual(versions.length, 2)
      })
    )
  )

  it.effect("an already rotated refresh token ends in ReconnectRequired with a reconnect URL", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance } = yield* connect()
        const first = yield* resolve(instance)
        yield* TestClock.adjust(Duration.hours(2))
        const second = yield* resolve(instance)
        assert.strictEqual(count("refresh_token"), 1)
        // Someone stores the old token set again (a restored backup, a buggy import).
        const vault = yield* CredentialVault.CredentialVault
        yield* vault.supersede(second.metadata, { credentials: secretsOf(first), reason: "restore" })
        yield* TestClock.adjust(Duration.hours(2))
        const error = yield* Effect.flip(resolve(instance))
        assert.strictEqual(count("refresh_token"), 2)
        assert.instanceOf(error, ActivityError.ReconnectRequired)
        if (error._tag !== "ReconnectRequired") return
        assert.strictEqual(error.action, "reconnect")
        assert.include(error.reason, "invalid_grant")
        assert.notInclude(JSON.stringify(error), secretsOf(first).refresh_token as string)
        assert.notInclude(error.message, secretsOf(first).refresh_token as string)
        assert.isTrue(error.reconnectUrl?.startsWith(`${server.issuer}/auth?`))
        assert.strictEqual(new URL(error.reconnectUrl!).searchParams.get("code_challenge_method"), "S256")
        const instances = yield* ConnectorInstances.ConnectorInstances
        assert.strictEqual((yield* instances.getInstance(instance.id)).status, "reconnect_required")

        // Following the reconnect link makes the instance active again.
        const callback = yield* Effect.promise(() => authorizeInBrowser(error.reconnectUrl!))
        const reconnected = yield* (yield* OAuth2.OAuth2).completeAuthorization(callback)
        assert.strictEqual((yield* instances.getInstance(instance.id)).status, "active")
        assert.strictEqual((yield* resolve(instance)).metadata.id, reconnected.id)
      })
    )
  )

  it.effect("a revoked refresh token ends in ReconnectRequired", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance } = yield* connect()
        const secrets = secretsOf(yield* resolve(instance))
        yield* Effect.promise(() => server.revoke(secrets.refresh_token as string))
        yield* TestClock.adjust(Duration.hours(2))
        const exit = yield* Effect.exit(resolve(instance))
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(resolve(instance))
        assert.strictEqual(error._tag, "ReconnectRequired")
        const instances = yield* ConnectorInstances.ConnectorInstances
        assert.strictEqual((yield* instances.getInstance(instance.id)).status, "reconnect_required")
      })
    )
  )

  it.effect("stale-while-revalidate: no caller waits while the token is valid beyond the floor", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance, metadata } = yield* connect()
        // Due (within the 60 s skew), valid for 40 s more: beyond the 10 s floor.
        yield* TestClock.adjust(Duration.seconds(3600 - 40))
        const hold = server.holdNextRefresh()
        const early = yield* Effect.all(
          Array.from({ length: 20 }, () => resolve(instance)),
          { concurrency: "unbounded" }
        )
        // The one background refresh is at the token endpoint, held there; callers still complete.
        yield* Effect.promise(() => hold.reached)
        const whileHeld = yield* Effect.all(
          Array.from({ length: 20 }, () => resolve(instance)),
          { concurrency: "unbounded" }
        )
        assert.isTrue([...early, ...whileHeld].every((r) => r.metadata.id === metadata.id))
        assert.strictEqual(count("refresh_token"), 1)
        hold.release()
        // Nearly expired: a caller now waits, for the same run, and gets its version.
        yield* TestClock.adjust(Duration.seconds(35))
        const refreshed = yield* resolve(instance)
        assert.strictEqual(refreshed.metadata.version, 2)
        assert.strictEqual(count("refresh_token"), 1)
      })
    )
  )

  it.effect("after invalid_grant, resolves fail at once, send nothing and reuse one reconnect URL", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance } = yield* connect()
        const secrets = secretsOf(yield* resolve(instance))
        yield* Effect.promise(() => server.revoke(secrets.refresh_token as string))
        yield* TestClock.adjust(Duration.hours(2))
        const first = yield* Effect.flip(resolve(instance))
        assert.strictEqual(count("refresh_token"), 1)
        const rest = yield* Effect.all(
          Array.from({ length: 50 }, () => Effect.flip(resolve(instance))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(count("refresh_token"), 1)
        const urls = new Set(
          [first, ...rest].map((e) => (e._tag === "ReconnectRequired" ? e.reconnectUrl : `not reconnect: ${e._tag}`))
        )
        assert.strictEqual(urls.size, 1)
        assert.isTrue([...urls][0]?.startsWith(`${server.issuer}/auth?`))
        // Past the pending authorization's 10 minutes, a fresh URL is made, once.
        yield* TestClock.adjust(Duration.minutes(11))
        const later = yield* Effect.all(
          Array.from({ length: 10 }, () => Effect.flip(resolve(instance))),
          { concurrency: "unbounded" }
        )
        const laterUrls = new Set(later.map((e) => (e._tag === "ReconnectRequired" ? e.reconnectUrl : e._tag)))
        assert.strictEqual(laterUrls.size, 1)
        assert.isFalse(urls.has([...laterUrls][0]))
        assert.strictEqual(count("refresh_token"), 1)
      })
    )
  )

  it.effect("a refusal after an interrupted attempt is reported as refresh_interrupted", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance } = yield* connect()
        const current = yield* resolve(instance)
        // A process recorded an attempt and died before recording its outcome.
        const repository = yield* CredentialRepository.CredentialRepository
        yield* repository.putRefreshState(
          CredentialRefreshState.CredentialRefreshState.make({
            ...CredentialRefreshState.empty(current.metadata.orgId, current.metadata.id),
            attemptedAt: new Date(yield* Clock.currentTimeMillis)
          })
        )
        yield* Effect.promise(() => server.revoke(secretsOf(current).refresh_token as string))
        yield* TestClock.adjust(Duration.hours(2))
        const error = yield* Effect.flip(resolve(instance))
        assert.strictEqual(error._tag, "ReconnectRequired")
        if (error._tag !== "ReconnectRequired") return
        assert.isTrue(error.reason.startsWith(`${RefreshProtocol.refreshInterrupted}:`))
      })
    )
  )

  it.effect("a 5xx keeps the old version: returned while valid, a transient failure once expired", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const { instance, metadata } = yield* connect()
        yield* TestClock.adjust(Duration.seconds(3600 - 5))
        server.failNext(1)
        const kept = yield* resolve(instance)
        assert.strictEqual(kept.metadata.id, metadata.id)
        assert.strictEqual(count("failed"), 1)

        yield* TestClock.adjust(Duration.seconds(60))
        server.failNext(1, 502)
        const error = yield* Effect.flip(resolve(instance))
        assert.strictEqual(error._tag, "ProviderFailure")
        assert.isTrue(error.retryable)
        assert.strictEqual(count("failed"), 2)

        // Two failures in a row: the next 2 s nobody sends a token request, and callers of the
        // expired token get a retryable failure at once.
        const backingOff = yield* Effect.all(
          Array.from({ length: 20 }, () => Effect.flip(resolve(instance))),
          { concurrency: "unbounded" }
        )
        assert.isTrue(backingOff.every((e) => e._tag === "RateLimited" && e.retryable))
        assert.strictEqual(count("failed"), 2)
        assert.strictEqual(count("refresh_token"), 0)
        yield* TestClock.adjust(Duration.seconds(2))
        const vault = yield* CredentialVault.CredentialVault
        assert.strictEqual((yield* vault.list(instance.id)).length, 1)
        const instances = yield* ConnectorInstances.ConnectorInstances
        assert.strictEqual((yield* instances.getInstance(instance.id)).status, "active")

        // The outage passes: the same refresh token still works.
        const refreshed = yield* resolve(instance)
        assert.strictEqual(refreshed.metadata.version, 2)
        assert.strictEqual(count("refresh_token"), 1)
      })
    )
  )
})

describe("client credentials", () => {
  it.effect(
    "the first token is fetched on demand when the registration holds a client secret, once for many callers",
    () =>
      Effect.gen(function* () {
        yield* realTime
        const instance = yield* createInstance(server.issuer, "oauth2_client_credentials", "on demand")
        const resolved = yield* Effect.all(
          Array.from({ length: 20 }, () => resolve(instance)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(count("client_credentials"), 1)
        assert.isTrue(resolved.every((r) => r.metadata.id === resolved[0]!.metadata.id))
        assert.strictEqual(resolved[0]!.metadata.scope.type, "organization")
        assert.isString(secretsOf(resolved[0]!).access_token)
        yield* resolve(instance)
        assert.strictEqual(count("client_credentials"), 1)

        // An authorization-code instance cannot be connected without a person: still not found.
        const code = yield* createInstance(server.issuer, "oauth2_authorization_code", "needs a person")
        const error = yield* Effect.flip(resolve(code))
        assert.strictEqual(error._tag, "CredentialNotFound")
      }).pipe(
        Effect.provide(
          Layer.merge(
            OAuth2.layerWithResolver({ allowInsecureRequests: true }).pipe(
              Layer.provideMerge(memoryBase()),
              Layer.provide(
                Layer.merge(
                  OAuth2Clients.layer({
                    connectors: {
                      "oauth-api": {
                        issuer: server.issuer,
                        clientId: machineClient.id,
                        clientSecret: machineClient.secret
                      }
                    }
                  }),
                  loopback
                )
              )
            ),
            actor
          )
        )
      )
  )

  it.effect("fetches a token, stores it with its client, and fetches a new one near expiry", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        server.ttl.clientCredentials = 300
        const oauth2 = yield* OAuth2.OAuth2
        const instance = yield* createInstance(server.issuer, "oauth2_client_credentials")
        const metadata = yield* oauth2.connectClientCredentials({
          instanceId: instance.id,
          clientId: machineClient.id,
          clientSecret: Redacted.make(machineClient.secret)
        })
        assert.strictEqual(metadata.labels.oauth2_grant, "client_credentials")
        assert.strictEqual(count("client_credentials"), 1)
        const first = secretsOf(yield* resolve(instance))
        assert.strictEqual(first.client_id, machineClient.id)
        assert.isUndefined(first.refresh_token)

        yield* TestClock.adjust(Duration.seconds(295))
        const second = yield* resolve(instance)
        assert.strictEqual(count("client_credentials"), 2)
        assert.strictEqual(second.metadata.version, 2)
        assert.notStrictEqual(secretsOf(second).access_token, first.access_token)
        assert.strictEqual(secretsOf(second).client_secret, machineClient.secret)
      })
    )
  )

  it.effect("a rejected client secret is AuthFailed when connecting, ReconnectRequired when refreshing", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const oauth2 = yield* OAuth2.OAuth2
        const instance = yield* createInstance(server.issuer, "oauth2_client_credentials")
        const error = yield* Effect.flip(
          oauth2.connectClientCredentials({
            instanceId: instance.id,
            clientId: machineClient.id,
            clientSecret: "wrong-client-secret"
          })
        )
        assert.strictEqual(error._tag, "AuthFailed")
        assert.notInclude(JSON.stringify(error), "wrong-client-secret")

        // The client's secret is rotated at the provider after the token was stored.
        yield* oauth2.connectClientCredentials({
          instanceId: instance.id,
          clientId: machineClient.id,
          clientSecret: machineClient.secret
        })
        const vault = yield* CredentialVault.CredentialVault
        const current = yield* resolve(instance)
        yield* vault.supersede(current.metadata, {
          credentials: { ...secretsOf(current), client_secret: "rotated-away" },
          reason: "test"
        })
        yield* TestClock.adjust(Duration.hours(2))
        const refused = yield* Effect.flip(resolve(instance))
        assert.strictEqual(refused._tag, "ReconnectRequired")
        if (refused._tag !== "ReconnectRequired") return
        assert.strictEqual(refused.action, "replace_credentials")
        assert.isUndefined(refused.reconnectUrl)
        assert.notInclude(JSON.stringify(refused), "rotated-away")
        assert.notInclude(refused.message, "rotated-away")
        const instances = yield* ConnectorInstances.ConnectorInstances
        assert.strictEqual((yield* instances.getInstance(instance.id)).status, "reconnect_required")
      })
    )
  )
})

describe("sweep", () => {
  it.effect("refreshes expiring tokens, touches idle ones, leaves fresh ones, per instance", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const oauth2 = yield* OAuth2.OAuth2
        server.ttl.accessToken = 48 * 3600
        const idle = (yield* connect("idle")).instance
        yield* TestClock.adjust(Duration.hours(25))
        server.ttl.clientCredentials = 8 * 60
        const expiring = yield* createInstance(server.issuer, "oauth2_client_credentials", "expiring")
        yield* oauth2.connectClientCredentials({
          instanceId: expiring.id,
          clientId: machineClient.id,
          clientSecret: machineClient.secret
        })
        server.ttl.accessToken = 3600
        server.ttl.clientCredentials = 3600
        const fresh = (yield* connect("fresh")).instance

        const results = Chunk.toReadonlyArray(yield* Stream.runCollect(oauth2.sweep({ withinMinutes: 10 })))
        const byName = new Map(results.map((r) => [r.instanceName, r]))
        assert.strictEqual(results.length, 3)
        assert.deepStrictEqual(
          { reason: byName.get("idle")?.reason, outcome: byName.get("idle")?.outcome },
          { reason: "idle", outcome: "refreshed" }
        )
        assert.deepStrictEqual(
          { reason: byName.get("expiring")?.reason, outcome: byName.get("expiring")?.outcome },
          { reason: "expiring", outcome: "refreshed" }
        )
        assert.deepStrictEqual(
          { reason: byName.get("fresh")?.reason, outcome: byName.get("fresh")?.outcome },
          { reason: "fresh", outcome: "skipped" }
        )
        assert.strictEqual(count("refresh_token"), 1)
        assert.strictEqual(count("client_credentials"), 2)
        assert.strictEqual((yield* resolve(idle)).metadata.version, 2)
        assert.strictEqual((yield* resolve(expiring)).metadata.version, 2)
        assert.strictEqual((yield* resolve(fresh)).metadata.version, 1)

        // Right after, nothing is due.
        const again = Chunk.toReadonlyArray(yield* Stream.runCollect(oauth2.sweep({ withinMinutes: 10 })))
        assert.deepStrictEqual(
          again.map((r) => r.outcome),
          ["skipped", "skipped", "skipped"]
        )
        assert.strictEqual(count("refresh_token"), 1)
      })
    )
  )

  it.effect("reports a refused refresh token as ReconnectRequired and marks the instance", () =>
    run(
      Effect.gen(function* () {
        yield* realTime
        const oauth2 = yield* OAuth2.OAuth2
        const { instance } = yield* connect()
        const secrets = secretsOf(yield* resolve(instance))
        yield* Effect.promise(() => server.revoke(secrets.refresh_token as string))
        const [result] = Chunk.toReadonlyArray(yield* Stream.runCollect(oauth2.sweep({ withinMinutes: 120 })))
        assert.strictEqual(result?.outcome, "failed")
        assert.strictEqual(result?.error?._tag, "ReconnectRequired")
        const instances = yield* ConnectorInstances.ConnectorInstances
        assert.strictEqual((yield* instances.getInstance(instance.id)).status, "reconnect_required")
      })
    )
  )
})
