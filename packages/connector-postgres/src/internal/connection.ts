/**
 * One server connection as the driver uses it: pg's client configuration for an instance (the
 * address the egress policy approved, or a stream through the instance's SSH tunnel, TLS as
 * `ssl_mode` says, the password read only when pg asks for it), and a client wrapped as a `Connection` whose statements are Effects. The wrapper keeps
 * what its owner must know when the call ends: whether a statement is still running on the server
 * and whether the connection may be reused.
 */
import { isIP } from "node:net"
import { checkServerIdentity } from "node:tls"
import { DriverError } from "@patchbay/core"
import type { SshTunnel } from "@patchbay/ssh-tunnel"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import Cursor from "pg-cursor"
import type { Configuration, Credentials } from "../PostgresDescriptor.js"
import type {
  Connection,
  CursorResult,
  DriverContext,
  Field,
  Session,
  StatementOptions,
  StatementResult
} from "../PostgresPools.js"
import { isConnectionBroken, toDriverError } from "./errors.js"

/** How long after a statement's own timeout the client stops waiting for a silent server. */
export const graceMillis = 5_000

/** `host:port/database`, the target named in errors. */
export const targetOf = (configuration: Configuration): string =>
  `${configuration.host}:${configuration.port}/${configuration.database}`

/**
 * pg's TLS options for an instance. The connection goes to an approved address, never the name,
 * so `verify-full` checks the certificate against the configured host name itself; `verify-ca`
 * checks the chain only. A client certificate is presented in every TLS mode.
 */
const sslOf = (configuration: Configuration, credentials: Credentials, plain: boolean): pg.ClientConfig["ssl"] => {
  if (plain || configuration.ssl_mode === "disable") return false
  const client =
    credentials.ssl_cert !== undefined && credentials.ssl_key !== undefined
      ? { cert: credentials.ssl_cert, key: Redacted.value(credentials.ssl_key) }
      : {}
  const ca = configuration.ssl_root_cert !== undefined ? { ca: configuration.ssl_root_cert } : {}
  const host = configuration.host
  switch (configuration.ssl_mode) {
    case "verify-full":
      return {
        ...client,
        ...ca,
        rejectUnauthorized: true,
        ...(isIP(host) === 0 ? { servername: host } : {}),
        checkServerIdentity: (_name, certificate) => checkServerIdentity(host, certificate)
      }
    case "verify-ca":
      return { ...client, ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
    default:
      return { ...client, rejectUnauthorized: false }
  }
}

/**
 * pg's client configuration for an instance, connecting to `address`, or through `tunnel` to the
 * configured host as the bastion resolves it. A read-only instance's sessions default to read-only
 * transactions.
 */
export const clientConfig = (
  context: DriverContext,
  address: string,
  plain: boolean,
  connectTimeoutMillis: number,
  tunnel?: SshTunnel.Tunnel | undefined
): pg.ClientConfig => {
  const { configuration, credentials } = context
  const password = credentials.password
  return {
    ...(tunnel !== undefined ? { stream: () => tunnel.socket(configuration.host, configuration.port) } : {}),
    host: address,
    port: configuration.port,
    database: configuration.database,
    user: credentials.username,
    // Without a password (certificate-only login), a server asking for one is refused here: pg
    // would otherwise look for PGPASSWORD or ~/.pgpass of the host.
    password:
      password !== undefined
        ? () => Redacted.value(password)
        : () =>
            Promise.reject(
              new DriverError.AuthFailed({
                kind: "invalid_credentials",
                detail: `${targetOf(configuration)} asked for a password and the credential has none`
              })
            ),
    ssl: sslOf(configuration, credentials, plain),
    connectionTimeoutMillis: connectTimeoutMillis,
    application_name: "patchbay",
    ...(configuration.read_only ? { options: "-c default_transaction_read_only=on" } : {})
  }
}

/** The server refused TLS: `prefer` then falls back to a plain connection, as libpq does. */
export const refusedTls = (configuration: Configuration, plain: boolean, cause: unknown): boolean =>
  configuration.ssl_mode === "prefer" && !plain && cause instanceof Error && /does not support SSL/i.test(cause.message)

/** Swallows an event or a rejection that has nobody to go to. */
export const ignore = (): void => {}

/** Connects a fresh, unpooled client to `address`; `prefer` falls back to plain text when the server offers no TLS. */
export const open = (
  context: DriverContext,
  address: string,
  connectTimeoutMillis: number,
  tunnel?: SshTunnel.Tunnel | undefined,
  plain = false
): Effect.Effect<pg.Client, DriverError.DriverError> =>
  Effect.suspend(() => {
    const client = new pg.Client(clientConfig(context, address, plain, connectTimeoutMillis, tunnel))
    // A dead socket emits "error" on the client; the statement in flight fails with it.
    client.on("error", ignore)
    return Effect.tryPromise({ try: () => client.connect(), catch: (cause) => cause }).pipe(
      Effect.as(client),
      Effect.catchAll((cause) => {
        client.end().catch(ignore)
        return refusedTls(context.configuration, plain, cause)
          ? open(context, address, connectTimeoutMillis, tunnel, true)
          : Effect.fail(
              toDriverError(cause, {
                target: targetOf(context.configuration),
                timeoutMillis: connectTimeoutMillis,
                connectTimeoutMillis,
                credentials: context.credentials
              })
            )
      })
    )
  })

/** What the owner of a connection needs to know when the call ends. */
export interface Health {
  /** A statement is still running on the server: the call stopped waiting (interrupted, or past its backstop). */
  running: boolean
  /** The connection must not be reused: its socket failed, or a statement was abandoned. */
  broken: boolean
}

const sessions = new WeakMap<pg.ClientBase, Session>()

const sessionOf = (client: pg.ClientBase): Session => {
  let session = sessions.get(client)
  if (session === undefined) {
    session = { statementTimeout: undefined }
    sessions.set(client, session)
  }
  return session
}

const copyRefusal = "COPY with the client (FROM STDIN, TO STDOUT) is not supported here"

/**
 * A cursor that also answers the COPY messages pg hands to the active query, which pg-cursor does
 * not handle (pg would throw on them and crash the process): COPY FROM STDIN is failed with
 * CopyFail, the data of COPY TO STDOUT is dropped; both end as `RequestRejected`.
 */
class ReadCursor extends Cursor<Record<string, unknown>> {
  copyRefused = false

  handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
    this.copyRefused = true
    connection.sendCopyFail(copyRefusal)
  }

  handleCopyData(): void {
    this.copyRefused = true
  }
}

const fieldsOf = (fields: ReadonlyArray<pg.FieldDef> | undefined): ReadonlyArray<Field> =>
  fields === undefined ? [] : fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }))

/** The result of a simple query with several statements is one per statement: the last one counts. */
const lastOf = (result: pg.QueryResult | ReadonlyArray<pg.QueryResult>): pg.QueryResult =>
  Array.isArray(result) ? result[result.length - 1]! : (result as pg.QueryResult)

/**
 * One statement in flight, settled once: by its outcome, by its backstop (`graceMillis` after its
 * timeout), or by an interruption. One object per statement, its methods called by pg's callbacks.
 */
class Statement<A> {
  private settled = false
  private readonly backstop: ReturnType<typeof setTimeout>

  constructor(
    private readonly health: Health,
    private readonly target: string,
    private readonly connectTimeoutMillis: number,
    private readonly credentials: unknown,
    private readonly options: StatementOptions,
    private readonly resume: (effect: Effect.Effect<A, DriverError.DriverError>) => void
  ) {
    health.running = true
    this.backstop = setTimeout(expire, options.timeoutMillis + graceMillis, this)
  }

  succeed(value: A): void {
    if (!this.settled) this.settle(Effect.succeed(value))
  }

  /** A failure of pg or of the socket, mapped here. */
  fail(cause: unknown): void {
    if (this.settled) return
    if (isConnectionBroken(cause)) this.health.broken = true
    this.settle(
      Effect.fail(
        toDriverError(cause, {
          target: this.target,
          connectTimeoutMillis: this.connectTimeoutMillis,
          credentials: this.credentials,
          ...this.options
        })
      )
    )
  }

  /** A failure the driver decided on. */
  reject(detail: string): void {
    if (!this.settled) this.settle(Effect.fail(new DriverError.RequestRejected({ target: this.target, detail })))
  }

  /** Past the backstop: the statement may still run, so the owner cancels it and destroys the connection. */
  expire(): void {
    if (this.settled) return
    this.settled = true
    this.health.broken = true
    this.resume(Effect.fail(new DriverError.TimedOut({ target: this.target, afterMillis: this.options.timeoutMillis })))
  }

  /** Interrupted: the statement keeps `running`, for the owner to cancel. */
  interrupt(): void {
    this.settled = true
    clearTimeout(this.backstop)
  }

  private settle(effect: Effect.Effect<A, DriverError.DriverError>): void {
    this.settled = true
    clearTimeout(this.backstop)
    this.health.running = false
    this.resume(effect)
  }
}

const expire = (statement: { expire(): void }) => statement.expire()

/**
 * Wraps a client of the instance at `target` (its pooled type cache given) as a `Connection`;
 * `credentials` are scrubbed from the server messages its errors carry.
 */
export const wrap = (
  client: pg.Client,
  target: string,
  typeCache: Map<number, string>,
  connectTimeoutMillis: number,
  credentials: unknown
): { readonly connection: Connection; readonly health: Health } => {
  const health: Health = { running: false, broken: false }

  /** Starts a statement with `submit`; a value pg cannot send is refused before anything is written. */
  const statement = <A>(options: StatementOptions, submit: (statement: Statement<A>) => void) =>
    Effect.async<A, DriverError.DriverError>((resume) => {
      const running = new Statement(health, target, connectTimeoutMillis, credentials, options, resume)
      try {
        submit(running)
      } catch (thrown) {
        running.reject(`${options.prefix ?? ""}${String(thrown)}`)
      }
      return Effect.sync(() => running.interrupt())
    })

  const query: Connection["query"] = (text, values, options) =>
    statement<StatementResult>(options, (running) => {
      client.query(
        values === undefined ? { text } : { text, values: [...values] },
        (error: Error | undefined, result: pg.QueryResult | ReadonlyArray<pg.QueryResult>) => {
          if (error) return running.fail(error)
          const last = lastOf(result)
          running.succeed({
            fields: fieldsOf(last.fields),
            rows: last.rows,
            command: last.command ?? null,
            rowCount: last.rowCount ?? null
          })
        }
      )
    })

  /** Reads up to `maxRows + 1` rows, and closes the portal when the statement had more. */
  const readRows = (cursor: ReadCursor, maxRows: number, running: Statement<CursorResult>) => {
    client.query(cursor)
    cursor.read(maxRows + 1, (error, rows, result) => {
      if (cursor.copyRefused) return running.reject(copyRefusal)
      if (error) return running.fail(error)
      const outcome = (truncated: boolean): CursorResult => ({
        fields: fieldsOf(result.fields),
        rows: truncated ? rows.slice(0, maxRows) : rows,
        truncated,
        command: result.command ?? null,
        rowCount: result.rowCount ?? null
      })
      // Fewer rows than asked for: the portal ran to its end and the cursor has synced already.
      if (rows.length <= maxRows) return running.succeed(outcome(false))
      cursor.close(() => running.succeed(outcome(true)))
    })
  }

  const read: Connection["read"] = (text, values, maxRows, options) =>
    statement<CursorResult>(options, (running) => {
      // The cursor writes Parse/Bind/Describe, then Execute: corked, they leave in one packet and
      // the server answers them in one go (pg's own Query corks its messages the same way).
      const stream = client.connection.stream
      stream.cork()
      try {
        readRows(new ReadCursor(text, [...values]), maxRows, running)
      } finally {
        stream.uncork()
      }
    })

  return {
    health,
    connection: {
      target,
      typeCache,
      session: sessionOf(client),
      query,
      read,
      transactionStatus: () => client.getTransactionStatus()
    }
  }
}
