/**
 * `patchbay credentials expiring --days N`: the organization's current credential versions that
 * expire within N days, soonest first.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { CredentialVault } from "@patchbay/credentials"
import * as Effect from "effect/Effect"
import { print, table } from "../output.js"
import * as Settings from "../settings.js"

const days = Options.integer("days").pipe(
  Options.withDefault(30),
  Options.withDescription("How many days ahead to look (default 30)")
)

const expiring = Command.make(
  "expiring",
  { store: Settings.store, json: Settings.json, org: Settings.org, days },
  ({ days, json, org, store }) =>
    Settings.asOperator(
      org,
      store,
      Effect.gen(function* () {
        const vault = yield* CredentialVault.CredentialVault
        const found = yield* vault.listExpiring({ daysAhead: days })
        yield* print(json, found, (rows) =>
          rows.length === 0
            ? [`no credential expires within ${days} days`]
            : table(
                ["instance", "connector", "scope", "credential", "expires", "days"],
                rows.map((row) => [
                  row.instanceName,
                  row.connectorKey,
                  row.scope.type,
                  row.credentialId,
                  row.expiresAt.toISOString(),
                  row.daysRemaining.toFixed(1)
                ])
              )
        )
      })
    )
).pipe(Command.withDescription("List credentials that expire within --days days"))

export const credentials = Command.make("credentials").pipe(
  Command.withDescription("Credential operations"),
  Command.withSubcommands([expiring])
)
