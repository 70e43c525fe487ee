/**
 * One server connection as the driver uses it: mysql2's options for an instance (a stream to the
 * address the egress policy approved, TLS as `ssl_mode` says), and a pooled connection wrapped as a
 * `Connection` whose statements are Effects. A statement interrupted or past its timeout is killed
 * on the server (`KILL QUERY` from another connection) before the Effect ends, and its connection is
 * marked broken so that it is destroyed rather than reused.
 */
import { connect as netConnect } from "node:net"
import type { Duplex } from "node:stream"
import { DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import mysql from "mysql2"
import type { Configuration, Credentials } from "../MysqlDescriptor.js"
import type { Connection, Cursor, DriverContext, Field, ReadResult, RowChunk, StatementOptions } from "../MysqlPools.js"
import { isFatal, toDriverError } from "./errors.js"

/** `host:port/database`, the target named in errors. */
export const targetOf = (configuration: Configuration): string =>
  `${configuration.host}:${configuration.port}/${configuration.database}`

/**
 * Opens the byte stream one server connection runs on: TCP to the address the egress policy
 * approved, or a channel through an SSH tunnel. mysql2 never resolves or dials a name itself.
 */
export type Dialer = () => Duplex

/** TCP to `address:port`; `address` is the one the egress policy approved. */
export const direct =
  (address: string, port: number): Dialer =>
  () => {
    const socket = netConnect({ host: address, port })
    socket.setNoDelay(true)
    return socket
  }

/**
 * mysql2's TLS options. mysql2 is given the configured host name (the stream already goes to the
 * approved address), so `verify-full` checks the certificate against that name and sends it as
 * SNI; `verify-ca` checks the chain only. A client certificate is presented in every TLS mode.
 */
const sslOf = (configuration: Configuration, credentials: Credentials): Pick<mysql.ConnectionOptions, "ssl"> => {
  if (configuration.ssl_mode === "disable") return {}
  const client =
    credentials.ssl_cert !== undefined && credentials.ssl_key !== undefined
      ? { cert: credentials.ssl_cert, key: Redacted.value(credentials.ssl_key) }
      : {}
  const ca = configuration.ssl_root_cert !== undefined ? { ca: configuration.ssl_root_cert } : {}
  switch (configuration.ssl_mode) {
    case "verify-full":
      return { ssl: { ...client, ...ca, rejectUnauthorized: true, verifyIdentity: true } }
    case "verify-ca":
      return { ssl: { ...client, ...ca, rejectUnauthorized: true, verifyIdentity: false } }
    default:
      return { ssl: { ...client, rejectUnauthorized: false, verifyIdentity: false } }
  }
}

/** mysql2's options for an instance, its connections opened by `dial` (never by resolving the host name again). */
export const connectionOptions = (
  context: DriverContext,
  dial: Dialer,
  connectTimeoutMillis: number
): mysql.ConnectionOptions => {
  const { configuration, credentials } = context
  return {
    host: configuration.host,
    port: configuration.port,
    stream: dial,
    database: configuration.database,
    user: credentials.username,
    // Without a password (certificate-only login) mysql2 sends an empty one: an account that has a
    // password refuses it (AuthFailed).
    ...(credentials.password !== undefined ? { password: Redacted.value(credentials.password) } : {}),
    ...sslOf(configuration, credentials),
    connectTimeout: connectTimeoutMillis,
    multipleStatements: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    charset: "utf8mb4_general_ci",
    connectAttributes: { program_name: "patchbay" }
  }
}

/** Swallows an event or a rejection that has nobody to go to. */
export const ignore = (): void => {}

/** What the owner of a connection needs to know when the call ends. */
export interface Health {
  /** The connection must not be reused: its socket failed, or a statement was killed. */
  broken: boolean
}

const typeNames: Record<number, string> = {
  0: "decimal",
  1: "tinyint",
  2: "smallint",
  3: "int",
  4: "float",
  5: "double",
  6: "null",
  7: "timestamp",
  8: "bigint",
  9: "mediumint",
  10: "date",
  11: "time",
  12: "datetime",
  13: "year",
  15: "varchar",
  16: "bit",
  245: "json",
  246: "decimal",
  247: "enum",
  248: "set",
  249: "tinyblob",
  250: "mediumblob",
  251: "longblob",
  252: "blob",
  253: "varchar",
  254: "char",
  255: "geometry"
}

const fieldOf = (field: mysql.FieldPacket): Field => {
  const code = field.columnType ?? field.type
  return {
    name: field.name,
    type: field.typeName?.toLowerCase() ?? (code === undefined ? "unknown" : (typeNames[code] ?? `type ${code}`))
  }
}

/**
 * Wraps a pooled connection of the instance at `target` as a `Connection`. `kill` sends
 * `KILL QUERY <thread>` on another connection; `credentials` are scrubbed from error messages.
 */
export const wrap = (
  client: mysql.Connection,
  target: string,
  kill: (threadId: number) => Effect.Effect<void>,
  credentials: unknown
): { readonly connection: Connection; readonly health: Health } => {
  const health: Health = { broken: false }

  const read: Connection["read"] = (sql, values, maxRows, options) => {
    const running = Effect.async<ReadResult, DriverError.DriverError>((resume) => {
      let settled = false
      let fields: ReadonlyArray<Field> = []
      const rows: Array<Record<string, unknown>> = []
      let truncated = false
      let affectedRows: number | null = null
      const fail = (cause: unknown) => {
        if (settled) return
        settled = true
        if (isFatal(cause)) health.broken = true
        resume(Effect.fail(toDriverError(cause, { target, credentials, ...options, params: values })))
      }
      try {
        const query = client.query({ sql, values: [...values] })
        query.on("error", fail)
        query.on("fields", (packets: ReadonlyArray<mysql.FieldPacket> | undefined) => {
          fields = packets === undefined ? [] : packets.map(fieldOf)
        })
        query.on("result", (row: unknown) => {
          if (fields.length === 0 || Array.isArray(row) || row === null || typeof row !== "object") {
            const header = row as { affectedRows?: unknown } | null
            if (typeof header?.affectedRows === "number") affectedRows = header.affectedRows
            return
          }
          // Rows past the cap are read and dropped: the statement runs to its end on the server.
          if (rows.length < maxRows) rows.push(row as Record<string, unknown>)
          else truncated = true
        })
        query.on("end", () => {
          if (settled) return
          settled = true
          resume(Effect.succeed({ fields, rows, truncated, affectedRows }))
        })
      } catch (thrown) {
        settled = true
        resume(
          Effect.fail(new DriverError.RequestRejected({ target, detail: `${options.prefix ?? ""}${String(thrown)}` }))
        )
      }
      return Effect.suspend(() => {
        if (settled) return Effect.void
        settled = true
        health.broken = true
        return kill(client.threadId)
      })
    })
    return running.pipe(
      Effect.timeoutFail({
        duration: options.timeoutMillis,
        onTimeout: () => new DriverError.TimedOut({ target, afterMillis: options.timeoutMillis })
      })
    )
  }

  const query: Connection["query"] = (sql, values, options) => read(sql, values, Number.MAX_SAFE_INTEGER, options)

  const cursor: Connection["cursor"] = (sql, values, batchSize, options) =>
    Effect.acquireRelease(
      Effect.sync(() => openCursor(client, health, target, credentials, sql, values, batchSize, options)),
      (opened) =>
        Effect.suspend(() => {
          if (opened.finished()) return Effect.void
          // Rows are still coming (or the connection is paused): stop the statement on the server,
          // then the connection is destroyed with whatever it still holds.
          health.broken = true
          return kill(client.threadId)
        })
    )

  return { health, connection: { target, query, read, cursor } }
}

/**
 * Starts a statement whose rows are read `batchSize` at a time: the connection is paused as soon as
 * a batch is full and resumed when the batch is taken, so the server waits (constant memory) while
 * the reader is busy.
 */
const openCursor = (
  client: mysql.Connection,
  health: Health,
  target: string,
  credentials: unknown,
  sql: string,
  values: ReadonlyArray<unknown>,
  batchSize: number,
  options: StatementOptions
): Cursor => {
  let fields: ReadonlyArray<Field> = []
  let buffer: Array<Record<string, unknown>> = []
  let done = false
  let failure: DriverError.DriverError | undefined
  let waiter: (() => void) | undefined
  const notify = () => {
    const waiting = waiter
    waiter = undefined
    waiting?.()
  }
  const fail = (cause: unknown) => {
    if (done) return
    done = true
    if (isFatal(cause)) health.broken = true
    failure = toDriverError(cause, { target, credentials, ...options, params: values })
    notify()
  }
  try {
    const query = client.query({ sql, values: [...values] })
    query.on("error", fail)
    query.on("fields", (packets: ReadonlyArray<mysql.FieldPacket> | undefined) => {
      fields = packets === undefined ? [] : packets.map(fieldOf)
    })
    query.on("result", (row: unknown) => {
      if (fields.length === 0 || Array.isArray(row) || row === null || typeof row !== "object") return
      buffer.push(row as Record<string, unknown>)
      if (buffer.length >= batchSize) {
        client.pause()
        notify()
      }
    })
    query.on("end", () => {
      if (done) return
      done = true
      notify()
    })
  } catch (thrown) {
    done = true
    failure = new DriverError.RequestRejected({ target, detail: `${options.prefix ?? ""}${String(thrown)}` })
  }

  // The wait for a batch is bounded by a timer of its own, armed only when the reader must wait:
  // `Effect.timeoutFail` races two fibers per batch, which cost about a fifth of the CPU time per
  // row at 1M rows (bench `streaming-mysql`).
  const next = Effect.async<Option.Option<RowChunk>, DriverError.DriverError>((resume) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const expire = () => {
      timer = undefined
      waiter = undefined
      resume(Effect.fail(new DriverError.TimedOut({ target, afterMillis: options.timeoutMillis })))
    }
    const deliver = () => {
      if (failure === undefined && buffer.length < batchSize && !done) {
        waiter = deliver
        timer ??= setTimeout(expire, options.timeoutMillis)
        return
      }
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      if (failure !== undefined) return resume(Effect.fail(failure))
      if (buffer.length === 0) return resume(Effect.succeed(Option.none()))
      const rows = buffer.length > batchSize ? buffer.splice(0, batchSize) : buffer
      if (rows === buffer) buffer = []
      if (!done) client.resume()
      resume(Effect.succeed(Option.some({ fields, rows })))
    }
    deliver()
    return Effect.sync(() => {
      waiter = undefined
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    })
  })

  return { next, finished: () => done }
}

/** `KILL QUERY <thread>` on a fresh connection with the same options; failures are ignored. */
export const killWith =
  (options: mysql.ConnectionOptions) =>
  (threadId: number): Effect.Effect<void> =>
    Effect.async<void>((resume) => {
      const killer = mysql.createConnection(options)
      killer.on("error", ignore)
      killer.query(`KILL QUERY ${Math.trunc(threadId)}`, () => {
        killer.end(ignore)
        resume(Effect.void)
      })
    })
