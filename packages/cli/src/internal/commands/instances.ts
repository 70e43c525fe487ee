/**
 * `patchbay instances list | test ID... | health ID...`: the organization's connector instances,
 * and connection tests and health checks on them. `test` and `health` exit 1 when any instance
 * failed.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Actor, type ConnectorInstance, ConnectorInstances } from "@patchbay/core"
import { ConnectionTester } from "@patchbay/testers"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { failure } from "../failure.js"
import { print, table } from "../output.js"
import * as Settings from "../settings.js"

const connector = Options.text("connector").pipe(
  Options.optional,
  Options.withDescription("Only instances of this connector key")
)

/** Every page of the organization's instances. */
const allInstances = (connector: Option.Option<string>) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const items: Array<ConnectorInstance.InstanceView> = []
    let cursor: string | undefined
    do {
      const page = yield* instances.list({
        limit: 200,
        ...(cursor === undefined ? {} : { cursor }),
        ...Option.match(connector, { onNone: () => ({}), onSome: (key) => ({ connector: key }) })
      })
      items.push(...page.items)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return items
  })

const list = Command.make(
  "list",
  { store: Settings.store, json: Settings.json, org: Settings.org, connector },
  ({ connector, json, org, store }) =>
    Settings.asOperator(
      org,
      store,
      Effect.gen(function* () {
        const items = yield* allInstances(connector)
        yield* print(json, items, (rows) =>
          table(
            ["id", "name", "connector", "status", "enabled", "credentials", "last tested"],
            rows.map((row) => [
              row.id,
              row.instanceName,
              row.connectorKey,
              row.status,
              row.isEnabled ? "yes" : "no",
              row.hasCredentials ? "yes" : "no",
              row.lastTestedAt === null ? "never" : `${row.lastTestedAt.toISOString()} (${row.testStatus})`
            ])
          )
        )
      })
    )
).pipe(Command.withDescription("List the organization's connector instances"))

const ids = Args.text({ name: "instance-id" }).pipe(Args.atLeast(1), Args.withDescription("Instance ids"))

/** Runs `check` on each id (one after another), prints the results, and fails with exit 1 if any failed. */
const checkCommand = <A extends { readonly instanceId: string; readonly status: string; readonly message: string }>(
  name: string,
  description: string,
  check: (tester: ConnectionTester.ConnectionTesterShape, id: string) => Effect.Effect<A, unknown, Actor.Actor>,
  passed: (result: A) => boolean
) =>
  Command.make(
    name,
    { store: Settings.store, json: Settings.json, org: Settings.org, ids },
    ({ ids, json, org, store }) =>
      Settings.asOperator(
        org,
        store,
        Effect.gen(function* () {
          const tester = yield* ConnectionTester.ConnectionTester
          const results = yield* Effect.forEach(ids, (id) => check(tester, id))
          yield* print(json, results, (rows) =>
            table(
              ["instance", "status", "message"],
              rows.map((row) => [row.instanceId, row.status, row.message])
            )
          )
          const failed = results.filter((result) => !passed(result)).length
          if (failed > 0)
            return yield* failure(
              "failed-check",
              `${failed} of ${results.length} ${name === "test" ? "tests" : "checks"} failed`
            )
        })
      )
  ).pipe(Command.withDescription(description))

const test = checkCommand(
  "test",
  "Test the connection of instances (records the result on each)",
  (tester, id) => tester.testConnection(id),
  (result) => result.status === "success"
)

const health = checkCommand(
  "health",
  "Health-check instances (a round trip to each)",
  (tester, id) => tester.healthCheck(id),
  (result) => result.status === "healthy"
)

export const instances = Command.make("instances").pipe(
  Command.withDescription("Connector instance operations"),
  Command.withSubcommands([list, test, health])
)
