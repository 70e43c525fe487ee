import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, inject, it } from "@effect/vitest"
import { Actor, Ids } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Effect, Layer } from "effect"
import { OAuth2 } from "../src/index.js"
import { authorizeInBrowser, redirectUri, start, type TestProvider } from "./support/provider.js"
import { sqlStack } from "./support/sqlStack.js"
import { createInstance, orgId } from "./support/stack.js"

let server: TestProvider
beforeAll(async () => {
  server = await start()
})
afterAll(() => server.close())

const processes = 4
const packageDir = fileURLToPath(new URL("..", import.meta.url))
const childScript = fileURLToPath(new URL("./support/child.ts", import.meta.url))

interface Child {
  readonly process: ChildProcess
  readonly ready: Promise<void>
  readonly result: Promise<{ readonly version: number; readonly token: string }>
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
  const result = new Promise<{ readonly version: number; readonly token: string }>((resolve, reject) => {
    child.on("exit", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? ""
      if (code === 0) resolve(JSON.parse(last))
      else reject(new Error(`child exited with ${code}: ${stderr}`))
    })
  })
  return { process: child, ready: Promise.race([ready, result.then(() => undefined)]), result }
}

describe("refresh across processes", () => {
  it.live(
    `${processes} processes on one PostgreSQL resolving an expiring token make exactly one token request`,
    () =>
      Effect.gen(function* () {
        const settings = {
          url: inject("databaseUrl"),
          key: randomBytes(32).toString("base64"),
          fingerprintKey: randomBytes(32).toString("base64")
        }
        // The first access token lives 2 s and has expired when the processes resolve; the refreshed
        // one lives an hour.
        server.ttl.accessToken = 2
        const instance = yield* Effect.gen(function* () {
          const oauth2 = yield* OAuth2.OAuth2
          const instance = yield* createInstance(server.issuer, "oauth2_authorization_code", "shared")
          const { url } = yield* oauth2.startAuthorization({ instanceId: instance.id, redirectUri })
          const callback = yield* Effect.promise(() => authorizeInBrowser(url))
          yield* oauth2.completeAuthorization(callback)
          return instance
        }).pipe(Effect.provide(sqlStack({ ...settings, migrate: true })))
        assert.strictEqual(server.counts.refresh_token ?? 0, 0)
        server.ttl.accessToken = 3600

        const children = Array.from({ length: processes }, () =>
          spawnChild({
            DATABASE_URL: settings.url,
            KEY: settings.key,
            FINGERPRINT_KEY: settings.fingerprintKey,
            ORG_ID: orgId,
            INSTANCE_ID: instance.id
          })
        )
        yield* Effect.promise(() => Promise.all(children.map((c) => c.ready)))
        yield* Effect.sleep("2500 millis")
        for (const child of children) child.process.stdin?.write("go\n")
        const results = yield* Effect.promise(() => Promise.all(children.map((c) => c.result)))

        assert.strictEqual(server.counts.refresh_token, 1)
        assert.strictEqual(new Set(results.map((r) => r.token)).size, 1)
        assert.deepStrictEqual(
          results.map((r) => r.version),
          [2, 2, 2, 2]
        )
        const versions = yield* Effect.flatMap(CredentialVault.CredentialVault, (vault) =>
          vault.list(instance.id)
        ).pipe(Effect.provide(sqlStack({ ...settings, migrate: false })))
        assert.strictEqual(versions.length, 2)
      }).pipe(Effect.provide(Layer.succeed(Actor.Actor, Actor.ActorInfo.make({ orgId: Ids.OrgId.make(orgId) })))),
    90_000
  )
})
