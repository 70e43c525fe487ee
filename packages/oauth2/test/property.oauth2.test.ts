/**
 * Bad input to the OAuth2 entry points (memory store, the oidc-provider test server for
 * discovery): `startAuthorization` with poisoned fields and `completeAuthorization` with forged
 * callbacks (unknown or poisoned state, code and error parameters) answer typed, non-retryable
 * refusals — never a success, a defect or a retryable failure — and the provider gets no token
 * request.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import * as fc from "fast-check"
import { OAuth2 } from "../src/index.js"
import { redirectUri, start, type TestProvider } from "./support/provider.js"
import { actor, createInstance, memory, orgId } from "./support/stack.js"

let server: TestProvider
beforeAll(async () => {
  server = await start()
})
afterAll(() => server.close())

const ascii = fc.string({ unit: "grapheme-ascii", maxLength: 12 })
const poison = fc.oneof(
  fc.tuple(ascii, ascii).map(([a, b]) => `${a}\u0000${b}`),
  fc.tuple(ascii, ascii).map(([a, b]) => `${a}\ud800${b}`),
  fc.tuple(ascii, ascii).map(([a, b]) => `${a}\udfff${b}`),
  fc.integer({ min: 70_000, max: 80_000 }).map((n) => "s".repeat(n))
)

/** Why an outcome is wrong, or undefined for a typed, non-retryable failure. */
const wrong = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return "succeeded"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return `defect: ${Cause.pretty(exit.cause).slice(0, 200)}`
  const error: unknown = failure.value
  if (typeof error !== "object" || error === null || !("_tag" in error)) return "untyped failure"
  return "retryable" in error && error.retryable === false ? undefined : `${String(error._tag)} is retryable`
}

describe("OAuth2 entry points with bad input", () => {
  it.effect("startAuthorization and completeAuthorization refuse poisoned and forged input", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const instance = yield* createInstance(server.issuer, "oauth2_authorization_code", "property")
      const tokensBefore = server.counts.authorization_code ?? 0
      const starts = fc.sample(
        fc.oneof(
          poison.map((id) => ({ instanceId: id, redirectUri })),
          fc.string({ maxLength: 40 }).map((id) => ({ instanceId: id, redirectUri })),
          poison.map((p) => ({ instanceId: instance.id, redirectUri, scopes: ["openid", p] })),
          fc.constant({
            instanceId: instance.id,
            redirectUri,
            scopes: Array.from({ length: 5_000 }, (_, i) => `s${i}`)
          }),
          poison.map((p) => ({ instanceId: instance.id, redirectUri: `${redirectUri}?x=${p}` })),
          fc.constantFrom("javascript:alert(1)", "ftp://example.com/cb", "", "not a url").map((uri) => ({
            instanceId: instance.id,
            redirectUri: uri
          })),
          poison.map((t) => ({ instanceId: instance.id, redirectUri, scope: { type: t, id: orgId } })),
          fc.constant({ instanceId: instance.id, redirectUri, extra: 1 })
        ),
        { numRuns: 150, seed: 13 }
      )
      const callbacks = fc.sample(
        fc.oneof(
          fc
            .tuple(fc.base64String({ minLength: 20, maxLength: 60 }), ascii)
            .map(
              ([state, code]) => `${redirectUri}?state=${encodeURIComponent(state)}&code=${encodeURIComponent(code)}`
            ),
          poison.map((p) => `${redirectUri}?state=${p}&code=abc`),
          poison.map((p) => `${redirectUri}?state=abc&code=${p}`),
          poison.map((p) => `${redirectUri}?error=access_denied&error_description=${p}&state=abc`),
          fc.string({ maxLength: 80 }),
          poison
        ),
        { numRuns: 150, seed: 13 }
      )
      const failures: Array<string> = []
      for (const input of starts) {
        const outcome = wrong(yield* Effect.exit(oauth2.startAuthorization(input as never)))
        if (outcome !== undefined) failures.push(`start: ${outcome} for ${JSON.stringify(input).slice(0, 120)}`)
      }
      for (const url of callbacks) {
        const outcome = wrong(yield* Effect.exit(oauth2.completeAuthorization(url)))
        if (outcome !== undefined) failures.push(`complete: ${outcome} for ${JSON.stringify(url).slice(0, 120)}`)
      }
      console.log(`[oauth2 bad input] tries ${starts.length + callbacks.length}, failures ${failures.length}`)
      assert.deepStrictEqual(failures.slice(0, 5), [])
      assert.strictEqual(server.counts.authorization_code ?? 0, tokensBefore)
    }).pipe(Effect.provide(Layer.merge(memory(), actor)))
  )
})
