/**
 * Scopes mean what the product says, over every actor shape: a workspace's instance is visible and
 * usable only inside that workspace (an organization-level person sees and administers it but
 * cannot use it); listings never show another user's or agent's personal credential; an agent
 * resolves agent → workspace → organization, its user's credential only on behalf of that user.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConnectorInstances, type Credential } from "@patchbay/core"
import { Effect, Exit } from "effect"
import { CredentialResolver } from "../src/CredentialResolver.js"
import { CredentialVault } from "../src/CredentialVault.js"
import {
  admin,
  agent1,
  agent2,
  as,
  createInstance,
  memory,
  orgA,
  user1,
  user2,
  workspace1,
  workspace2
} from "./fixtures.js"

type Actor = {
  orgId: string
  workspaceId?: string
  userId?: string
  agentId?: string
  onBehalfOfUser?: boolean
}

/** Every actor shape of organization A: workspace × user × agent × on-behalf flag. */
const actors = (): Array<Actor> => {
  const all: Array<Actor> = []
  for (const workspaceId of [undefined, workspace1, workspace2])
    for (const userId of [undefined, user1, user2])
      for (const agentId of [undefined, agent1, agent2])
        for (const onBehalfOfUser of [undefined, true, false]) {
          if (agentId === undefined && onBehalfOfUser !== undefined) continue
          all.push({
            orgId: orgA,
            ...(workspaceId === undefined ? {} : { workspaceId }),
            ...(userId === undefined ? {} : { userId }),
            ...(agentId === undefined ? {} : { agentId }),
            ...(onBehalfOfUser === undefined ? {} : { onBehalfOfUser })
          })
        }
  return all
}

const password = "scope-test-password-0123"

/** Who may see a version of `scope` (the rule, written independently of the code under test). */
const mayList = (actor: Actor, scope: Credential.CredentialMetadata["scope"]) => {
  switch (scope.type) {
    case "organization":
      return scope.id === actor.orgId
    case "workspace":
      return scope.id === actor.workspaceId || (actor.workspaceId === undefined && actor.agentId === undefined)
    case "user":
      return scope.id === actor.userId && (actor.agentId === undefined || actor.onBehalfOfUser === true)
    case "agent":
      return scope.id === actor.agentId
  }
}

/** The scope an actor's resolution must land on, given versions in every scope. */
const expectedScope = (actor: Actor) =>
  actor.agentId !== undefined
    ? `agent:${actor.agentId}`
    : actor.userId !== undefined
      ? `user:${actor.userId}`
      : actor.workspaceId !== undefined
        ? `workspace:${actor.workspaceId}`
        : `organization:${actor.orgId}`

describe("scopes over every actor shape", () => {
  it.effect("workspace instances, listings and agent resolution", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instances = yield* ConnectorInstances.ConnectorInstances
      const resolver = yield* CredentialResolver
      const bound = yield* createInstance("Team DB", { workspaceId: workspace1 })
      const shared = yield* createInstance("Shared DB", { configuration: { host: "shared.internal", database: "s" } })
      // A version in every scope of both instances, each written by an actor allowed to.
      const writers: ReadonlyArray<
        readonly [Actor, { type: "organization" | "workspace" | "user" | "agent"; id: string }]
      > = [
        [{ orgId: orgA }, { type: "organization", id: orgA }],
        [
          { orgId: orgA, workspaceId: workspace1 },
          { type: "workspace", id: workspace1 }
        ],
        [
          { orgId: orgA, workspaceId: workspace2 },
          { type: "workspace", id: workspace2 }
        ],
        [
          { orgId: orgA, userId: user1 },
          { type: "user", id: user1 }
        ],
        [
          { orgId: orgA, userId: user2 },
          { type: "user", id: user2 }
        ],
        [
          { orgId: orgA, agentId: agent1 },
          { type: "agent", id: agent1 }
        ],
        [
          { orgId: orgA, agentId: agent2 },
          { type: "agent", id: agent2 }
        ]
      ]
      for (const instance of [bound, shared]) {
        for (const [writer, scope] of writers) {
          if (instance === bound && scope.type === "workspace" && scope.id !== workspace1) continue
          yield* vault
            .create({ instanceId: instance.id, scope, credentials: { username: `u-${scope.id}`, password } })
            .pipe(as({ ...writer, ...(instance === bound ? { workspaceId: workspace1 } : {}) }))
        }
      }

      let tries = 0
      const failures: Array<string> = []
      const check = (ok: boolean, what: string) => {
        tries++
        if (!ok) failures.push(what)
      }
      for (const actor of actors()) {
        const who = JSON.stringify(actor)
        // Visibility and use of the workspace's instance.
        const seen = yield* Effect.exit(instances.get(bound.id).pipe(as(actor)))
        const orgPerson = actor.workspaceId === undefined && actor.agentId === undefined
        check(Exit.isSuccess(seen) === (actor.workspaceId === workspace1 || orgPerson), `get bound ${who}`)
        const page = yield* instances.list({}).pipe(as(actor))
        check(
          page.items.some((i) => i.id === bound.id) === (actor.workspaceId === workspace1 || orgPerson),
          `list bound ${who}`
        )
        const used = yield* Effect.exit(resolver.resolve(bound).pipe(as(actor)))
        check(Exit.isSuccess(used) === (actor.workspaceId === workspace1), `resolve bound ${who}`)

        // Listings show only what the actor may use or administer.
        for (const instance of [bound, shared]) {
          const listed = yield* Effect.exit(vault.list(instance.id).pipe(as(actor)))
          if (Exit.isFailure(listed)) {
            check(instance === bound && !(actor.workspaceId === workspace1 || orgPerson), `list failed ${who}`)
            continue
          }
          for (const version of listed.value) {
            check(mayList(actor, version.scope), `listed ${version.scope.type}:${version.scope.id} to ${who}`)
          }
          check(
            listed.value.length ===
              writers.filter(
                ([, s]) =>
                  !(instance === bound && s.type === "workspace" && s.id !== workspace1) && mayList(actor, s as never)
              ).length,
            `listing complete for ${who}`
          )
        }

        // Resolution order on the org-level instance.
        const resolved = yield* resolver.resolve(shared).pipe(as(actor))
        check(
          resolved.metadata.scope.key === expectedScope(actor),
          `resolved ${resolved.metadata.scope.key} for ${who}`
        )
        if (actor.agentId !== undefined && actor.onBehalfOfUser !== true) {
          check(resolved.metadata.scope.type !== "user", `agent got a user's credential ${who}`)
        }
      }
      assert.deepStrictEqual(failures, [])
      assert.isAtLeast(tries, 500)
      yield* Effect.logInfo(`scope isolation: ${tries} tries, ${failures.length} failures`)
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("an agent acting on behalf of its user falls back to the user's credential, and only then", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const resolver = yield* CredentialResolver
      const instance = yield* createInstance("Personal DB")
      yield* vault.create({
        instanceId: instance.id,
        scope: { type: "user", id: user1 },
        credentials: { username: "me", password }
      })
      yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgA },
        credentials: { username: "org", password }
      })
      const isolated = yield* resolver.resolve(instance).pipe(as({ orgId: orgA, userId: user1, agentId: agent1 }))
      assert.strictEqual(isolated.metadata.scope.type, "organization")
      const onBehalf = yield* resolver
        .resolve(instance)
        .pipe(as({ orgId: orgA, userId: user1, agentId: agent1, onBehalfOfUser: true }))
      assert.strictEqual(onBehalf.metadata.scope.type, "user")
      // The agent may not write its user's personal credential either, unless on behalf of the user.
      const write = yield* Effect.exit(
        vault
          .create({
            instanceId: instance.id,
            scope: { type: "user", id: user1 },
            credentials: { username: "x", password }
          })
          .pipe(as({ orgId: orgA, userId: user1, agentId: agent1 }))
      )
      assert.isTrue(Exit.isFailure(write))
    }).pipe(as(admin), Effect.provide(memory()))
  )
})
