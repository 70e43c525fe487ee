/**
 * The scope-isolation suite, run on every store: a hostile tenant corpus (fast-check actors of
 * this and another organization, of this and other workspaces, other users, agents with and
 * without `onBehalfOfUser`) tries to get, list, update, test, resolve, use through an activity,
 * store and revoke instances and credentials it must not see or use. The expectations come from
 * the product's rules (docs/security.md, "Scopes"), written here on their own rather than with
 * `CredentialScope`'s functions, so a slip in those shows.
 */
import { assert, describe, it } from "@effect/vitest"
import { Activities } from "@patchbay/activities"
import { Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { ConnectionTester } from "@patchbay/testers"
import { Cause, Effect, Exit, type Layer, ManagedRuntime, Option, Schema } from "effect"
import * as fc from "fast-check"
import { afterAll } from "vitest"
import type * as Patchbay from "../src/Patchbay.js"
import { stack } from "./property.cases.js"

const orgA = "0190a000-0000-7000-8000-00000000a000"
const orgB = "0190a000-0000-7000-8000-00000000b000"
const w1 = "0190a000-0000-7000-8000-00000000a0e1"
const w2 = "0190a000-0000-7000-8000-00000000a0e2"
const u1 = "0190a000-0000-7000-8000-00000000a0f1"
const u2 = "0190a000-0000-7000-8000-00000000a0f2"
const u3 = "0190a000-0000-7000-8000-00000000a0f3"
const g1 = "0190a000-0000-7000-8000-00000000a0c1"
const g2 = "0190a000-0000-7000-8000-00000000a0c2"

type ScopeType = "organization" | "workspace" | "user" | "agent"

interface Who {
  readonly orgId: string
  readonly workspaceId?: string | undefined
  readonly userId?: string | undefined
  readonly agentId?: string | undefined
  readonly onBehalfOfUser?: boolean | undefined
}

interface Stored {
  readonly id: string
  readonly orgId: string
  readonly instanceId: string
  readonly scope: { readonly type: ScopeType; readonly id: string }
  /** A code in the labels and at the end of the password (so in the mask), unique to this version. */
  readonly code: string
}

interface Fixture {
  readonly instances: ReadonlyArray<{
    readonly id: string
    readonly orgId: string
    readonly workspaceId: string | null
  }>
  readonly credentials: ReadonlyArray<Stored>
}

// ---------------------------------------------------------------------------------------------
// The product's rules, stated independently

/** An organization-level person: no workspace, not an agent. */
const orgLevelPerson = (who: Who) => who.workspaceId === undefined && who.agentId === undefined

const visible = (who: Who, instance: Fixture["instances"][number]) =>
  instance.orgId === who.orgId &&
  (instance.workspaceId === null || instance.workspaceId === who.workspaceId || orgLevelPerson(who))

const usable = (who: Who, instance: Fixture["instances"][number]) =>
  instance.orgId === who.orgId && (instance.workspaceId === null || instance.workspaceId === who.workspaceId)

/** The scopes `who` may use, in resolution order. */
const order = (who: Who): ReadonlyArray<string> => [
  ...(who.agentId !== undefined ? [`agent:${who.agentId}`] : []),
  ...(who.userId !== undefined && (who.agentId === undefined || who.onBehalfOfUser === true)
    ? [`user:${who.userId}`]
    : []),
  ...(who.workspaceId !== undefined ? [`workspace:${who.workspaceId}`] : []),
  `organization:${who.orgId}`
]

const key = (scope: Stored["scope"]) => `${scope.type}:${scope.id}`

const mayUse = (who: Who, credential: Stored) =>
  credential.orgId === who.orgId && order(who).includes(key(credential.scope))

const mayList = (who: Who, credential: Stored) =>
  mayUse(who, credential) ||
  (credential.orgId === who.orgId && credential.scope.type === "workspace" && orgLevelPerson(who))

// ---------------------------------------------------------------------------------------------

/** Hostile actors: either organization, known or unknown workspaces, users and agents, any on-behalf flag. */
const actors: fc.Arbitrary<Who> = fc.record(
  {
    orgId: fc.constantFrom(orgA, orgA, orgA, orgB),
    workspaceId: fc.option(fc.oneof(fc.constantFrom(w1, w2), fc.uuid({ version: 7 })), { nil: undefined }),
    userId: fc.option(fc.oneof(fc.constantFrom(u1, u2, u3), fc.uuid({ version: 7 })), { nil: undefined }),
    agentId: fc.option(fc.oneof(fc.constantFrom(g1, g2), fc.uuid({ version: 7 })), { nil: undefined }),
    onBehalfOfUser: fc.option(fc.boolean(), { nil: undefined })
  },
  { requiredKeys: ["orgId"] }
)

const configuration = { host: "127.0.0.1", port: 1, database: "nowhere", ssl_mode: "disable" }

/** Tallies of the isolation suite: tries and failures per operation. */
export const isolationTallies = new Map<string, { tries: number; failures: number; examples: Array<string> }>()

const tagOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return "defect"
  const error: unknown = failure.value
  return typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "untyped"
}

/**
 * Defines the isolation properties for `store`, `runs` hostile actors per property.
 */
export const isolationSuite = <E>(name: string, store: Layer.Layer<Patchbay.StoreServices, E>, runs: number) =>
  describe(`scope isolation on ${name}`, () => {
    const runtime = ManagedRuntime.make(stack(store))
    afterAll(() => runtime.dispose())
    const as = <A, Err>(who: Who, effect: Effect.Effect<A, Err, Actor.Actor | Patchbay.Services>) =>
      Effect.provideService(effect, Actor.Actor, Schema.decodeSync(Actor.ActorInfo)(who))

    let accounts = 0
    const setup: Effect.Effect<Fixture, unknown, Patchbay.Services> = Effect.gen(function* () {
      const instances = yield* ConnectorInstances.ConnectorInstances
      const vault = yield* CredentialVault.CredentialVault
      const make = (orgId: string, workspaceId: string | null) =>
        as(
          { orgId },
          instances.create({
            connector: "postgres",
            instanceName: `isolation-${Date.now().toString(36)}-${accounts++}`,
            workspaceId,
            configuration
          })
        ).pipe(Effect.map((view) => ({ id: view.id, orgId, workspaceId })))
      const made = [yield* make(orgA, null), yield* make(orgA, w1), yield* make(orgA, w2), yield* make(orgB, null)]
      const writers: ReadonlyArray<readonly [Who, Stored["scope"]]> = [
        [{ orgId: orgA }, { type: "organization", id: orgA }],
        [
          { orgId: orgA, workspaceId: w1 },
          { type: "workspace", id: w1 }
        ],
        [
          { orgId: orgA, workspaceId: w2 },
          { type: "workspace", id: w2 }
        ],
        [
          { orgId: orgA, workspaceId: w1, userId: u1 },
          { type: "user", id: u1 }
        ],
        [
          { orgId: orgA, workspaceId: w2, userId: u3 },
          { type: "user", id: u3 }
        ],
        [
          { orgId: orgA, workspaceId: w1, agentId: g1 },
          { type: "agent", id: g1 }
        ],
        [
          { orgId: orgA, agentId: g2 },
          { type: "agent", id: g2 }
        ],
        [{ orgId: orgB }, { type: "organization", id: orgB }]
      ]
      const credentials: Array<Stored> = []
      for (const instance of made) {
        for (const [writer, scope] of writers) {
          if (writer.orgId !== instance.orgId) continue
          if (scope.type === "workspace" && instance.workspaceId !== null && instance.workspaceId !== scope.id) continue
          const code = `zq${(accounts++).toString(36).padStart(4, "0")}`
          const metadata = yield* as(
            // An actor of the instance's workspace writes, so the instance is visible to it.
            { ...writer, workspaceId: instance.workspaceId ?? writer.workspaceId },
            vault.create({
              instanceId: instance.id,
              scope,
              credentials: { username: `user-${code}`, password: `password-${code}` },
              labels: { owner: code },
              expiresAt: new Date(Date.now() + 3 * 86_400_000)
            })
          )
          credentials.push({ id: metadata.id, orgId: instance.orgId, instanceId: instance.id, scope, code })
        }
      }
      return { instances: made, credentials }
    })

    const fixture = runtime.runPromise(setup)

    const tally = (operation: string) => {
      const label = `${name} ${operation}`
      let t = isolationTallies.get(label)
      if (t === undefined) {
        t = { tries: 0, failures: 0, examples: [] }
        isolationTallies.set(label, t)
      }
      const entry = t
      const kinds = new Set<string>()
      return (ok: boolean, example: () => string) => {
        entry.tries++
        if (!ok) {
          entry.failures++
          // One example of each kind of failure: the text after the actor, without ids.
          const text = example()
          const kind = text.replace(/^\{.*?\} /, "").replace(/[0-9a-f-]{36}/g, "<id>")
          if (!kinds.has(kind) && kinds.size < 8) {
            kinds.add(kind)
            entry.examples.push(text)
          }
        }
      }
    }

    const report = (operations: ReadonlyArray<string>) => {
      const rows = operations.map((op) => ({ op, ...isolationTallies.get(`${name} ${op}`)! }))
      console.log(`[scope isolation on ${name}] ${JSON.stringify(rows.map(({ examples: _, ...r }) => r))}`)
      assert.deepStrictEqual(
        rows.map((row) => ({ op: row.op, examples: row.examples })),
        rows.map((row) => ({ op: row.op, examples: [] }))
      )
    }

    const sample = (seed: number) => fc.sample(actors, { numRuns: runs, seed })

    it("instances: get, list, update, test connection", { timeout: 600_000 }, async () => {
      const { instances: made } = await fixture
      const ops = ["instance get", "instance list", "instance update", "instance test"]
      const [get, list, update, test] = ops.map(tally)
      await runtime.runPromise(
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances.ConnectorInstances
          const tester = yield* ConnectionTester.ConnectionTester
          for (const who of sample(13)) {
            const show = () => JSON.stringify(who)
            for (const instance of made) {
              const sees = visible(who, instance)
              const got = tagOf(yield* Effect.exit(as(who, instances.get(instance.id))))
              get!(
                got === (sees ? "success" : "InstanceNotFound"),
                () => `${show()} get ${instance.workspaceId}: ${got}`
              )
              const updated = tagOf(
                yield* Effect.exit(as(who, instances.update(instance.id, { description: "touched" })))
              )
              update!(
                updated === (sees ? "success" : "InstanceNotFound"),
                () => `${show()} update ${instance.workspaceId}: ${updated}`
              )
              const tested = tagOf(yield* Effect.exit(as(who, tester.testConnection(instance.id))))
              const expected = !sees ? "InstanceNotFound" : usable(who, instance) ? "success" : "ScopeForbidden"
              test!(
                tested === expected,
                () => `${show()} test ${instance.workspaceId}: ${tested}, expected ${expected}`
              )
            }
            const page = yield* Effect.exit(as(who, instances.list({ limit: 200 })))
            const listed = Exit.isSuccess(page) ? page.value.items.map((item) => item.id) : []
            const expected = made.filter((instance) => visible(who, instance)).map((instance) => instance.id)
            const ours = listed.filter((id) => made.some((instance) => instance.id === id))
            list!(
              Exit.isSuccess(page) && JSON.stringify([...ours].sort()) === JSON.stringify([...expected].sort()),
              () => `${show()} list: ${ours.length} of ours listed, ${expected.length} expected`
            )
          }
        })
      )
      report(ops)
    })

    it("credentials: list, list expiring, revoke, store", { timeout: 600_000 }, async () => {
      const { instances: made, credentials } = await fixture
      const ops = ["credential list", "credential listExpiring", "credential revoke", "credential store"]
      const [list, expiring, revoke, store] = ops.map(tally)
      await runtime.runPromise(
        Effect.gen(function* () {
          const vault = yield* CredentialVault.CredentialVault
          for (const who of sample(14)) {
            const show = () => JSON.stringify(who)
            for (const instance of made) {
              const exit = yield* Effect.exit(as(who, vault.list(instance.id)))
              if (!visible(who, instance)) {
                list!(
                  tagOf(exit) === "InstanceNotFound",
                  () => `${show()} list ${instance.workspaceId}: ${tagOf(exit)}`
                )
              } else {
                const text = Exit.isSuccess(exit) ? JSON.stringify(exit.value) : ""
                const mine = credentials.filter((c) => c.instanceId === instance.id)
                const leaked = mine.filter((c) => !mayList(who, c) && text.includes(c.code))
                const missing = mine.filter((c) => mayUse(who, c) && !text.includes(c.code))
                list!(
                  Exit.isSuccess(exit) && leaked.length === 0 && missing.length === 0,
                  () =>
                    `${show()} list ${instance.workspaceId}: ${tagOf(exit)}, leaked ${leaked.map((c) => key(c.scope))}, missing ${missing.map((c) => key(c.scope))}`
                )
              }
              // Storing under a scope the actor may not write: refused, and an invisible instance does not exist.
              for (const scope of [
                { type: "user", id: u2 },
                { type: "agent", id: g1 },
                { type: "workspace", id: w2 }
              ] as const) {
                const writable =
                  order(who).includes(key(scope)) &&
                  visible(who, instance) &&
                  (scope.type !== "workspace" || instance.workspaceId === null || instance.workspaceId === scope.id)
                if (writable) continue
                const stored = tagOf(
                  yield* Effect.exit(
                    as(
                      who,
                      vault.create({ instanceId: instance.id, scope, credentials: { username: "x", password: "y" } })
                    )
                  )
                )
                const expected = visible(who, instance) ? "ScopeForbidden" : "InstanceNotFound"
                store!(stored === expected, () => `${show()} store ${key(scope)} on ${instance.workspaceId}: ${stored}`)
              }
            }
            const soon = yield* Effect.exit(as(who, vault.listExpiring({ daysAhead: 30 })))
            const text = Exit.isSuccess(soon) ? JSON.stringify(soon.value) : ""
            const leaked = credentials.filter(
              (c) =>
                text.includes(c.id) &&
                !(mayList(who, c) && visible(who, made.find((instance) => instance.id === c.instanceId)!))
            )
            expiring!(
              Exit.isSuccess(soon) && leaked.length === 0,
              () => `${show()} listExpiring leaked ${leaked.length}`
            )
            // Revoking what the actor may not write: it does not exist when the actor may not see it.
            for (const credential of credentials) {
              const instance = made.find((i) => i.id === credential.instanceId)!
              const writable =
                mayUse(who, credential) &&
                visible(who, instance) &&
                (credential.scope.type !== "workspace" ||
                  instance.workspaceId === null ||
                  instance.workspaceId === credential.scope.id)
              if (writable) continue
              const revoked = tagOf(yield* Effect.exit(as(who, vault.revoke(credential.id))))
              const expected =
                visible(who, instance) && mayList(who, credential) ? "ScopeForbidden" : "CredentialVersionNotFound"
              revoke!(
                revoked === expected,
                () =>
                  `${show()} revoke ${key(credential.scope)} on ${instance.workspaceId}: ${revoked}, expected ${expected}`
              )
            }
          }
        })
      )
      report(ops)
    })

    it("resolve and Run Query: only the actor's scopes, in the product's order", { timeout: 600_000 }, async () => {
      const { instances: made, credentials } = await fixture
      const ops = ["resolve", "resolve with a scope", "runQuery"]
      const [resolve, resolveScoped, runQuery] = ops.map(tally)
      await runtime.runPromise(
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances.ConnectorInstances
          const resolver = yield* CredentialResolver.CredentialResolver
          const activities = yield* Activities.Activities
          for (const who of sample(15)) {
            const show = () => JSON.stringify(who)
            for (const instance of made) {
              const found = yield* Effect.exit(as(who, instances.getInstance(instance.id)))
              if (!visible(who, instance)) {
                resolve!(tagOf(found) === "InstanceNotFound", () => `${show()} getInstance: ${tagOf(found)}`)
              } else if (Exit.isSuccess(found)) {
                const mine = credentials.filter((c) => c.instanceId === instance.id)
                const first = order(who).find((scope) => mine.some((c) => key(c.scope) === scope))
                const exit = yield* Effect.exit(as(who, resolver.resolve(found.value)))
                const expected = !usable(who, instance)
                  ? "ScopeForbidden"
                  : first === undefined
                    ? "CredentialNotFound"
                    : "success"
                const scope = Exit.isSuccess(exit) ? key(exit.value.metadata.scope) : undefined
                resolve!(
                  tagOf(exit) === expected && (expected !== "success" || scope === first),
                  () =>
                    `${show()} resolve ${instance.workspaceId}: ${tagOf(exit)} ${scope}, expected ${expected} ${first}`
                )
                for (const target of mine) {
                  const scoped = yield* Effect.exit(as(who, resolver.resolve(found.value, { scope: target.scope })))
                  const want = !usable(who, instance) || !mayUse(who, target) ? "ScopeForbidden" : "success"
                  resolveScoped!(
                    tagOf(scoped) === want,
                    () =>
                      `${show()} resolve ${key(target.scope)} on ${instance.workspaceId}: ${tagOf(scoped)}, expected ${want}`
                  )
                }
              }
              // A query reaches the (closed) peer only with a credential the actor may use.
              const ran = tagOf(
                yield* Effect.exit(as(who, activities.runQuery({ instanceId: instance.id, sql: "SELECT 1" })))
              )
              const mine = credentials.filter((c) => c.instanceId === instance.id)
              const reaches = usable(who, instance) && mine.some((c) => mayUse(who, c))
              const expected = reaches
                ? "TransientFailure"
                : usable(who, instance)
                  ? "ReconnectRequired"
                  : "ActivityRejected"
              runQuery!(
                ran === expected,
                () => `${show()} runQuery ${instance.workspaceId}: ${ran}, expected ${expected}`
              )
            }
          }
        })
      )
      report(ops)
    })
  })
