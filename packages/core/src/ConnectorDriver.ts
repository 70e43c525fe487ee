/**
 * The code that talks to one kind of external system. A driver implements `test` and
 * `healthCheck`, and the optional capabilities its descriptor declares as operations.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import type { ConnectorDescriptor } from "./ConnectorDescriptor.js"
import type { ConnectorInstance } from "./ConnectorInstance.js"
import type * as Database from "./Database.js"
import type { DdlNeedsReason, DdlRejected, EgressDenied } from "./DomainError.js"
import type { DriverError } from "./DriverError.js"
import type * as Messaging from "./Messaging.js"

/**
 * The stored credential version a driver context's credentials come from. Drivers that keep
 * connections (pools, SSH tunnels) key them by instance, scope and version: versions of one scope
 * replace each other, and two scopes' credentials of one instance never share a connection.
 *
 * @since 0.1.0
 */
export interface CredentialVersion {
  /** The version's id (`CredentialMetadata.id`): every version has its own. */
  readonly id: string
  readonly version: number
  /** The key of the version's scope (`CredentialScope.key`, `type:id`). */
  readonly scope: string
}

/**
 * What a driver call gets: the instance, its configuration decoded with the descriptor's schema,
 * the resolved credentials decoded with the descriptor's credential schema (secret fields as
 * `Redacted`), and the credential version they were resolved from.
 *
 * @since 0.1.0
 */
export interface DriverContext<Configuration, Credentials> {
  readonly instance: ConnectorInstance
  readonly configuration: Configuration
  readonly credentials: Credentials
  readonly credential: CredentialVersion
}

/**
 * Failures of any driver call: the external system's, or the egress policy's.
 *
 * @since 0.1.0
 */
export type DriverFailure = DriverError | EgressDenied

/**
 * One operation of a driver on an instance's context.
 *
 * @since 0.1.0
 */
export type Operation<Configuration, Credentials, Input, A, E = DriverFailure> = (
  context: DriverContext<Configuration, Credentials>,
  input: Input
) => Effect.Effect<A, E>

/**
 * @since 0.1.0
 */
export interface ConnectorDriver<Configuration, Credentials> {
  /** Verifies that the credentials work; succeeds with a human-readable detail (server version…). */
  readonly test: (context: DriverContext<Configuration, Credentials>) => Effect.Effect<string, DriverFailure>
  /** One cheap round trip; latency is measured by the caller. */
  readonly healthCheck: (context: DriverContext<Configuration, Credentials>) => Effect.Effect<void, DriverFailure>
  readonly query?: Operation<Configuration, Credentials, Database.QueryRequest, Database.QueryResult>
  /** A read-only statement's rows in batches from a server-side cursor, fetched as the consumer pulls. */
  readonly streamQuery?: (
    context: DriverContext<Configuration, Credentials>,
    request: Database.StreamQueryRequest
  ) => Stream.Stream<Database.RowBatch, DriverFailure>
  readonly discoverSchema?: Operation<Configuration, Credentials, Database.SchemaRequest, Database.DatabaseSchema>
  readonly executeDdl?: Operation<
    Configuration,
    Credentials,
    Database.DdlRequest,
    Database.DdlResult,
    DriverFailure | DdlRejected | DdlNeedsReason
  >
  readonly sendEmail?: Operation<Configuration, Credentials, Messaging.EmailMessage, Messaging.EmailReceipt>
  readonly sendSms?: Operation<Configuration, Credentials, Messaging.SmsMessage, Messaging.SmsReceipt>
  readonly fetchFile?: <E>(
    context: DriverContext<Configuration, Credentials>,
    request: Messaging.FetchFileRequest,
    sink: Sink.Sink<unknown, Uint8Array, never, E>
  ) => Effect.Effect<Messaging.FetchedFile, DriverFailure | E>
}

/**
 * A descriptor with its driver: what a connector package exports and a registry holds. The
 * driver's types were checked against the descriptor's schemas by `make`.
 *
 * @since 0.1.0
 */
export interface Connector {
  readonly descriptor: ConnectorDescriptor
  readonly driver: ConnectorDriver<
    ConnectorDescriptor["configuration"]["Type"],
    ConnectorDescriptor["credentials"]["Type"]
  >
}

/**
 * Pairs a descriptor with its driver, typing the driver's context from the descriptor's schemas.
 *
 * @since 0.1.0
 */
export const make = <Descriptor extends ConnectorDescriptor>(
  descriptor: Descriptor,
  driver: ConnectorDriver<Descriptor["configuration"]["Type"], Descriptor["credentials"]["Type"]>
): Connector => ({ descriptor, driver })
