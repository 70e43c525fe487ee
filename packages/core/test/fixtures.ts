import { Effect, Layer, Schema } from "effect"
import * as Actor from "../src/Actor.js"
import * as AuditLog from "../src/AuditLog.js"
import type { ConnectorDescriptor } from "../src/ConnectorDescriptor.js"
import * as ConnectorDriver from "../src/ConnectorDriver.js"
import * as ConnectorInstances from "../src/ConnectorInstances.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import * as Ids from "../src/Ids.js"
import * as InstanceRepository from "../src/InstanceRepository.js"
import * as Transactions from "../src/Transactions.js"

export const orgA = "0190a000-0000-7000-8000-00000000000a"
export const orgB = "0190b000-0000-7000-8000-00000000000b"
export const workspaceA = "0190a000-0000-7000-8000-0000000000a1"

const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-000000000001"),
  key: "demo-db",
  name: "Demo database",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection", "health_check"],
  configuration: Schema.Struct({
    host: Schema.String.pipe(Schema.minLength(1)),
    port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 5432 }),
    database: Schema.String
  }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
  secretFields: ["password"],
  accountFields: ["host", "port", "database", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor

/** A connector whose driver does nothing: enough for lifecycle tests. */
export const demoConnector = ConnectorDriver.make(descriptor, {
  test: () => Effect.succeed("ok"),
  healthCheck: () => Effect.void
})

export const actorLayer = (orgId: string = orgA) => Actor.layer({ orgId })

/** ConnectorInstances on memory ports, with the ports exposed for assertions. */
export const memoryLayer = ConnectorInstances.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(
      InstanceRepository.layerMemory,
      AuditLog.layerMemory,
      ConnectorRegistry.layer([demoConnector]),
      Transactions.layerMemory
    )
  )
)
