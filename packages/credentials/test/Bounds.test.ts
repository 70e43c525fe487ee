/**
 * Bad input to the vault and the resolver is a typed, non-retryable `InvalidInput`: NUL bytes and
 * lone surrogates anywhere, deep or wide values, long strings — never a defect or a `StorageError`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Option } from "effect"
import { CredentialResolver } from "../src/CredentialResolver.js"
import { CredentialVault } from "../src/CredentialVault.js"
import { admin, as, createInstance, memory, orgA } from "./fixtures.js"

const poison = fc.oneof(
  fc.string().map((s) => `${s}\u0000${s}`),
  fc.string().map((s) => `${s}\ud800`),
  fc.string().map((s) => `\udfff${s}`),
  fc.constant("p".repeat(70_000))
)

const deep = (levels: number): unknown => {
  let value: unknown = "x"
  for (let i = 0; i < levels; i++) value = { v: value }
  return value
}

describe("bounded input", () => {
  it.effect("vault.create and resolve options answer InvalidInput for poisoned input", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const resolver = yield* CredentialResolver
      const instance = yield* createInstance("Bounded")
      const scope = { type: "organization", id: orgA } as const
      const good = { username: "reader", password: "a-good-password" }
      const inputs = fc.sample(
        fc.oneof(
          poison.map((p) => ({ instanceId: p, scope, credentials: good })),
          poison.map((p) => ({ instanceId: instance.id, scope, credentials: good, labels: { note: p } })),
          poison.map((p) => ({ instanceId: instance.id, scope, credentials: good, labels: { [p]: "v" } })),
          poison.map((p) => ({ instanceId: instance.id, scope, credentials: { ...good, password: p } })),
          fc.integer({ min: 9, max: 200_000 }).map((n) => ({ instanceId: instance.id, scope, credentials: deep(n) })),
          fc
            .integer({ min: 5, max: 100_000 })
            .map((n) => ({ instanceId: instance.id, scope, credentials: good, labels: { d: deep(n) } })),
          fc.constant({
            instanceId: instance.id,
            scope,
            credentials: good,
            labels: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i]))
          })
        ),
        { numRuns: 400, seed: 13 }
      )
      let failures = 0
      const isInvalid = (exit: Exit.Exit<unknown, { readonly _tag: string }>) =>
        Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "InvalidInput")
      for (const input of inputs) {
        if (!isInvalid(yield* Effect.exit(vault.create(input as never)))) failures++
      }
      const scopes = fc.sample(
        poison.map((p) => ({ type: "user", id: p })),
        { numRuns: 100, seed: 13 }
      )
      for (const bad of scopes) {
        if (!isInvalid(yield* Effect.exit(resolver.resolve(instance, { scope: bad as never })))) failures++
      }
      assert.strictEqual(inputs.length + scopes.length, 500)
      assert.strictEqual(failures, 0)
    }).pipe(as(admin), Effect.provide(memory()))
  )
})
