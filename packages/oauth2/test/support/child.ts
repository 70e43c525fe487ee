/**
 * One of the processes of the multi-process refresh tests: composes the PostgreSQL stack, says
 * "ready", waits for "go" on stdin, resolves the instance's credential `RESOLVES` times at once
 * (default 1) and prints the outcomes as one JSON line: `{ version, token }` (a hash) or
 * `{ error, reason?, code?, reconnectUrl? }` each.
 */
import { createHash } from "node:crypto"
import { createInterface } from "node:readline"
import { Actor, ConnectorInstances, Ids } from "@patchbay/core"
import { CredentialResolver } from "@patchbay/credentials"
import { Effect, Exit, Redacted } from "effect"
import { sqlStack } from "./sqlStack.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const go = () =>
  new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin })
    lines.on("line", (line) => {
      if (line.trim() === "go") {
        lines.close()
        resolve()
      }
    })
  })

const program = Effect.gen(function* () {
  const instances = yield* ConnectorInstances.ConnectorInstances
  const resolver = yield* CredentialResolver.CredentialResolver
  const instance = yield* instances.getInstance(env("INSTANCE_ID"))
  process.stdout.write("ready\n")
  yield* Effect.promise(go)
  const once = resolver.resolve(instance).pipe(
    Effect.map((resolved) => {
      const token = String(Redacted.value(resolved.secrets).access_token)
      return { version: resolved.metadata.version, token: createHash("sha256").update(token).digest("hex") }
    }),
    Effect.catchAll((error) =>
      Effect.succeed(
        error._tag === "ReconnectRequired"
          ? { error: error._tag, reason: error.reason, code: error.code, reconnectUrl: error.reconnectUrl }
          : { error: error._tag, reason: error.message }
      )
    )
  )
  return yield* Effect.all(
    Array.from({ length: Number(process.env.RESOLVES ?? "1") }, () => once),
    {
      concurrency: "unbounded"
    }
  )
}).pipe(
  Effect.provide(
    sqlStack({ url: env("DATABASE_URL"), key: env("KEY"), fingerprintKey: env("FINGERPRINT_KEY"), migrate: false })
  ),
  Effect.provideService(Actor.Actor, Actor.ActorInfo.make({ orgId: Ids.OrgId.make(env("ORG_ID")) }))
)

Effect.runPromiseExit(program).then((exit) => {
  if (Exit.isSuccess(exit)) {
    process.stdout.write(`${JSON.stringify(exit.value)}\n`)
    process.exit(0)
  }
  process.stderr.write(`${String(exit.cause)}\n`)
  process.exit(1)
})
