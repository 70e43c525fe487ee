/**
 * The options every command that opens the store shares, and the layers they select: the store
 * (embedded PGlite in `--data-dir`, or PostgreSQL at `--database-url`), the keys (the environment,
 * else the data directory's key file) and Patchbay itself.
 */

import { mkdirSync } from "node:fs"
import { join } from "node:path"
import * as Options from "@effect/cli/Options"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { Catalog, HttpConnector } from "@patchbay/connector-http"
import { MysqlConnector } from "@patchbay/connector-mysql"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { SmtpConnector } from "@patchbay/connector-smtp"
import { Actor } from "@patchbay/core"
import type { CredentialRefresher } from "@patchbay/credentials"
import { Patchbay } from "@patchbay/preset"
import { PgliteStore } from "@patchbay/store-pglite"
import { SqlStore } from "@patchbay/store-sql"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { type CliFailure, classify, failure } from "./failure.js"
import * as KeyFile from "./keyFile.js"

/** `--data-dir`: where the embedded store (and its key file) live. */
export const dataDir = Options.text("data-dir").pipe(
  Options.withFallbackConfig(Config.string("PATCHBAY_DATA_DIR")),
  Options.withDefault("./patchbay-data"),
  Options.withDescription("Directory of the embedded store (store/) and its key file (keys.env) (PATCHBAY_DATA_DIR)")
)

/** `--database-url`: PostgreSQL instead of the embedded store. */
export const databaseUrl = Options.redacted("database-url").pipe(
  Options.withFallbackConfig(Config.redacted("PATCHBAY_DATABASE_URL")),
  Options.optional,
  Options.withDescription(
    "PostgreSQL URL of a shared store (PATCHBAY_DATABASE_URL); keys then come from the environment"
  )
)

/** `--json`: one JSON document on standard output. */
export const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON document"))

/** `--org`: the organization an operator command acts in. */
export const org = Options.text("org").pipe(
  Options.withFallbackConfig(Config.string("PATCHBAY_ORG_ID")),
  Options.withDescription("Organization id (PATCHBAY_ORG_ID)")
)

/** Where the store is. */
export interface StoreSettings {
  readonly dataDir: string
  readonly databaseUrl: Option.Option<Redacted.Redacted>
}

/** The store options as one value. */
export const store = Options.all({ dataDir, databaseUrl })

/** Where in a data directory the embedded store keeps its database (the key file sits beside it). */
export const storeDirectory = (dataDir: string): string => join(dataDir, "store")

/** The store layer the settings name; the embedded store's directory is made when missing. */
export const storeLayer = (settings: StoreSettings): Layer.Layer<SqlStore.Services, CliFailure> =>
  Option.match(settings.databaseUrl, {
    onNone: () =>
      Layer.unwrapEffect(
        Effect.try({
          try: () => mkdirSync(settings.dataDir, { recursive: true }),
          catch: (error) => failure("storage", `cannot make the data directory: ${String(error)}`)
        }).pipe(
          Effect.as(PgliteStore.layer({ dataDir: storeDirectory(settings.dataDir) }).pipe(Layer.mapError(classify)))
        )
      ),
    onSome: (url) => SqlStore.layerPg({ url, applicationName: "patchbay-cli" }).pipe(Layer.mapError(classify))
  })

/**
 * Where the keys come from: the environment, and with the embedded store also the data
 * directory's key file (made on first use). A shared PostgreSQL store needs the same keys in every
 * process, so it takes them from the environment only.
 */
export const keysProvider = (
  settings: StoreSettings
): Effect.Effect<ConfigProvider.ConfigProvider, CliFailure, FileSystem.FileSystem | Path.Path> =>
  Option.isSome(settings.databaseUrl)
    ? Effect.succeed(ConfigProvider.fromEnv())
    : Effect.map(KeyFile.load(settings.dataDir), KeyFile.configProvider)

/** The connectors the CLI and the standalone server install. */
export const connectors = [
  PostgresConnector.connector,
  MysqlConnector.connector,
  SmtpConnector.connector,
  ...HttpConnector.descriptors.map(HttpConnector.connector),
  ...Catalog.descriptors.map(HttpConnector.connector)
]

/** Patchbay on the settings' store and keys, with its own start-up failures. */
export const patchbayUnclassified = <RefresherOut = never>(
  settings: StoreSettings,
  refresher?: Layer.Layer<CredentialRefresher.CredentialRefresher | RefresherOut, never, Patchbay.Foundation>
) =>
  Layer.unwrapEffect(
    Effect.map(keysProvider(settings), (provider) =>
      Patchbay.layer({
        store: storeLayer(settings),
        connectors,
        keys: "config",
        ...(refresher === undefined ? {} : { refresher })
      }).pipe(Layer.provide(Layer.setConfigProvider(provider)))
    )
  )

/** Patchbay on the settings' store and keys, failures classified for the exit code. */
export const patchbay = <RefresherOut = never>(
  settings: StoreSettings,
  refresher?: Layer.Layer<CredentialRefresher.CredentialRefresher | RefresherOut, never, Patchbay.Foundation>
) => patchbayUnclassified(settings, refresher).pipe(Layer.mapError(classify))

/** An organization-level operator actor. */
export const operator = (orgId: string) =>
  Effect.try({
    try: () => Schema.decodeUnknownSync(Actor.ActorInfo)({ orgId }),
    catch: () => failure("usage", "--org must be an organization id (a UUID)")
  })

/**
 * Runs `body` as an organization-level operator of `org` on the settings' Patchbay. The id is
 * checked before the store opens, so a malformed `--org` is a usage error that touches nothing.
 */
export const asOperator = <A, E, R>(org: string, settings: StoreSettings, body: Effect.Effect<A, E, R>) =>
  Effect.flatMap(operator(org), (actor) =>
    body.pipe(Effect.provideService(Actor.Actor, actor), Effect.mapError(classify), Effect.provide(patchbay(settings)))
  )
