import { ConnectorDriver, Ids } from "@patchbay/core"
import { Effect, Schema } from "effect"

/** A stand-in PostgreSQL descriptor whose driver does nothing, until the real connector lands. */
export const demoPostgres = ConnectorDriver.make(
  {
    id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000a1"),
    key: "postgres",
    name: "PostgreSQL",
    version: "0.1.0",
    authProfiles: ["database_password"],
    operations: ["test_connection", "health_check"],
    configuration: Schema.Struct({
      host: Schema.String,
      port: Schema.optionalWith(Schema.Int, { default: () => 5432 }),
      database: Schema.String
    }),
    credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
    secretFields: ["password"],
    accountFields: ["host", "port", "database", "username"],
    supportsSchemaDiscovery: false
  },
  { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void }
)
