import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, beforeEach, describe, inject, it } from "@effect/vitest"
import { Actor, AuditLog, Ids } from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Effect, Layer, Redacted, TestClock, TestContext } from "effect"
import { OAuth2, RefreshProtocol } from "../src/index.js"
import { authorizeInBrowser, redirectUri, start, type TestProvider } from "./support/provider.js"
import { sqlStack } from "./support/sqlStack.js"
import { createInstance, orgId } from "./support/stack.js"

let server: TestProvider
beforeAll(async () => {
  server = await start()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const processes = 4
const packageDir = fileURLToPath(new URL("..", import.meta.url))
const childScript = fileURLToPath(new URL("./support/child.ts", import.meta.url))

/** What a child reports per resolution. */
type Outcome =
  | { readonly version: number; readonly token: string }
  | { readonly error: string; readonly reason?: string; readonly code?: string; readonly reconnectUrl?: string }

interface Child {
  readonly process: ChildProcess
  readonly ready: Promise<void>
  readonly result: Promise<ReadonlyArray<Outcome>>
  readonly go: () => void
}

const spawnChild = (env: Record<string, string>): Child => {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@patchbay/source", childScript], {
    cwd: packageDir,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.includes("ready\n")) markReady()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const result = new Promise<ReadonlyArray<Outcome>>((resolve, reject) => {
    child.on("exit", (code, signal) => {
      const last = stdout.trim().split("\n").at(-1) ?? ""
      if (code === 0) resolve(JSON.parse(last))
      else reject(new Error(`child exited with ${code ?? signal}: ${stderr}`))
    })
  })
  return {
    process: child,
    ready: Promise.race([ready, result.then(() => undefined)]),
    result,
    go: () => child.stdin.write("go\n")
  }
}

const actor = Layer.succeed(Actor.Actor, Actor.ActorInfo.make({ orgId: Ids.OrgId.make(orgId) }))

/**
 * A fresh database key pair and an instance connected two hours ago (a TestClock set back), so
 * its one-hour access token has expired when the children resolve: no waiting for it.
 */
const connectedTwoHoursAgo = (name: string) =>
  Effect.gen(function* () {
    const settings = {
      url: inject("databaseUrl"),
      key: randomBytes(32).toString("base64"),
      fingerprintKey: randomBytes(32).toString("base64")
    }
    const connected = yield* Effect.gen(function* () {
      yield* TestClock.setTime(Date.now() - 2 * 3600_000)
      const oauth2 = yield* OAuth2.OAuth2
      const instance = yield* createInstance(server.issuer, "oauth2_authorization_code", name)
      const { url } = yield* oauth2.startAuthorization({ instanceId: instance.id, redirectUri })
      const callback = yield* Effect.promise(() => authorizeInBrowser(url))
      yield* oauth2.completeAuthorization(callback)
      // Still two hours ago: the token is fresh, nothing is refreshed.
      const resolved = yield* Effect.flatMap(CredentialResolver.CredentialResolver, (r) => r.resolve(instance))
      const refreshToken = String((Redacted.value(resolved.secrets) as Record<string, unknown>).refresh_token)
      return { instance, refreshToken }
    }).pipe(
      Effect.provide(Layer.merge(sqlStack({ ...settings, migrate: true }), TestContext.TestContext)),
      Effect.provide(actor)
    )
    assert.strictEqual(server.counts.refresh_token ?? 0, 0)
    const env = (extra: Record<string, string> = {}) => ({
      DATABASE_URL: settings.url,
      KEY: settings.key,
      FINGERPRINT_KEY: settings.fingerprintKey,
      ORG_ID: orgId,
      INSTANCE_ID: connected.instance.id,
      ...extra
    })
    const versions = Effect.flatMap(CredentialVault.CredentialVault, (vault) => vault.list(connected.instance.id)).pipe(
      Effect.provide(sqlStack({ ...settings, migrate: false })),
      Effect.provide(actor)
    )
    /** How many pending authorizations were stored for the instance: each is audited in its unit. */
    const authorizationsStarted = Effect.flatMap(AuditLog.AuditLog, (log) =>
      log.list(Ids.OrgId.make(orgId), {
        instanceId: connected.instance.id,
        action: "oauth2.authorization_started",
        limit: 1000
      })
    ).pipe(
      Effect.map((events) => events.length),
      Effect.provide(sqlStack({ ...settings, migrate: false }))
    )
    return { ...connected, env, versions, authorizationsStarted }
  })

/** Starts `count` children, waits until every one is ready, says go to all and collects their outcomes. */
const runChildren = (count: number, env: Record<string, string>) =>
  Effect.gen(function* () {
    const children = Array.from({ length: count }, () => spawnChild(env))
    yield* Effect.promise(() => Promise.all(children.map((c) => c.ready)))
    for (const child of children) child.go()
    return (yield* Effect.promise(() => Promise.all(children.map((c) => c.result)))).flat()
  })

describe("refresh across processes", () => {
  it.live(
    `${processes} processes on one PostgreSQL resolving an expired token make exactly one token request`,
    () =>
      Effect.gen(function* () {
        const { env, versions } = yield* connectedTwoHoursAgo("shared")
        const results = yield* runChildren(processes, env())

        assert.strictEqual(server.counts.refresh_token, 1)
        const tokens = new Set(results.map((r) => ("token" in r ? r.token : r.error)))
        assert.strictEqual(tokens.size, 1)
        assert.deepStrictEqual(
          results.map((r) => ("version" in r ? r.version : r.error)),
          [2, 2, 2, 2]
        )
        assert.strictEqual((yield* versions).length, 2)
      }),
    240_000
  )

  it.live(
    `after invalid_grant, 25 resolves in each of ${processes} processes make one token request and share one reconnect URL`,
    () =>
      Effect.gen(function* () {
        const { authorizationsStarted, env, refreshToken, versions } = yield* connectedTwoHoursAgo("refused")
        // The first connection's pending authorization.
        assert.strictEqual(yield* authorizationsStarted, 1)
        yield* Effect.promise(() => server.revoke(refreshToken))
        const results = yield* runChildren(processes, env({ RESOLVES: "25" }))

        assert.strictEqual(results.length, processes * 25)
        assert.strictEqual(server.counts.refresh_token, 1)
        const failures = new Set(results.map((r) => ("error" in r ? `${r.error}` : "resolved")))
        assert.deepStrictEqual(
          [...failures],
          ["ReconnectRequired"],
          JSON.stringify(results.filter((r) => !("reconnectUrl" in r)))
        )
        assert.deepStrictEqual(
          [...new Set(results.map((r) => ("code" in r ? r.code : undefined)))],
          ["refresh_refused"]
        )
        const urls = new Set(results.map((r) => ("reconnectUrl" in r ? r.reconnectUrl : undefined)))
        assert.strictEqual(urls.size, 1)
        // One pending authorization for the reconnect URL, stored with its audit event.
        assert.strictEqual(yield* authorizationsStarted, 2)
        assert.isTrue([...urls][0]?.startsWith(`${server.issuer}/auth?`))
        assert.strictEqual((yield* versions).length, 1)

        // A second wave, in new processes: still nothing sent, the same URL.
        const again = yield* runChildren(1, env({ RESOLVES: "10" }))
        assert.strictEqual(server.counts.refresh_token, 1)
        assert.isTrue(again.every((r) => "reconnectUrl" in r && urls.has(r.reconnectUrl)))
        assert.strictEqual(yield* authorizationsStarted, 2)
      }),
    240_000
  )

  it.live(
    "a process killed after the provider rotated the refresh token, before the commit: the successor reports refresh_interrupted",
    () =>
      Effect.gen(function* () {
        const { env, versions } = yield* connectedTwoHoursAgo("killed")
        // The provider issues the new token set, then holds the response: the child is inside the
        // refresh, its attempt recorded, the old refresh token spent.
        const hold = server.holdNextRefresh()
        const victim = spawnChild(env())
        yield* Effect.promise(() => victim.ready)
        victim.go()
        yield* Effect.promise(() => hold.reached)
        victim.process.kill("SIGKILL")
        const died = yield* Effect.promise(() =>
          victim.result.then(
            () => "exited normally",
            (error: Error) => error.message
          )
        )
        assert.include(died, "SIGKILL")
        hold.release()
        assert.strictEqual(server.counts.refresh_token, 1)
        assert.strictEqual((yield* versions).length, 1)

        const [successor] = yield* runChildren(1, env())
        // The successor sends the only refresh token it has; oidc-provider sees it reused.
        assert.strictEqual(server.counts.refresh_token, 2)
        assert.isDefined(successor)
        assert.isTrue(successor !== undefined && "error" in successor && successor.error === "ReconnectRequired")
        // The typed code says what happened; the reason says it in words.
        const code = successor !== undefined && "code" in successor ? successor.code : undefined
        assert.strictEqual(code, "refresh_interrupted")
        assert.strictEqual(code, RefreshProtocol.refreshInterrupted)
        const reason = successor !== undefined && "reason" in successor ? successor.reason : undefined
        assert.isTrue(reason?.startsWith(`${RefreshProtocol.refreshInterrupted}:`), reason)
        assert.strictEqual((yield* versions).length, 1)

        // Later resolutions fail at once with the same reason and send nothing.
        const later = yield* runChildren(1, env({ RESOLVES: "5" }))
        assert.strictEqual(server.counts.refresh_token, 2)
        assert.deepStrictEqual(
          later.map((r) => ("code" in r ? r.code : undefined)),
          later.map(() => "refresh_interrupted")
        )
      }),
    240_000
  )
})
