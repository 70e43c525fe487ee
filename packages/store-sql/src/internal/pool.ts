/**
 * The node-postgres pool behind `layerPg`. Its connections prepare each parameterised statement
 * once (a named statement per distinct SQL text) and reuse the plan afterwards: the store's
 * statements are a small fixed set, and parsing and planning them on every call costs more than
 * the round trip.
 */
import { createHash } from "node:crypto"
import pg from "pg"

/** Statement texts that get a name; beyond this many distinct ones, statements stay unnamed. */
const maxNamed = 512

/** Options of the pool. */
export interface PoolOptions {
  readonly connectionString: string
  readonly max: number
  readonly connectionTimeoutMillis: number
  readonly applicationName: string
}

/** A pool whose connections reuse prepared statements. */
export const makePool = (options: PoolOptions): pg.Pool => {
  const names = new Map<string, string>()
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text)
    if (name === undefined && names.size < maxNamed) {
      name = `patchbay_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`
      names.set(text, name)
    }
    return name
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    application_name: options.applicationName,
    keepAlive: true
  })
  // An idle connection that the server closes must not crash the process; the pool drops it.
  pool.on("error", () => {})
  pool.on("connect", (client) => {
    const query: (...args: ReadonlyArray<unknown>) => unknown = client.query.bind(client)
    // @effect/sql-pg calls `query(text, values, callback)` for ordinary statements.
    Object.defineProperty(client, "query", {
      configurable: true,
      value: (...args: ReadonlyArray<unknown>) => {
        const [text, values, callback] = args
        if (typeof text === "string" && Array.isArray(values) && values.length > 0 && typeof callback === "function") {
          const name = nameOf(text)
          if (name !== undefined) return query({ name, text, values }, callback)
        }
        return query(...args)
      }
    })
  })
  return pool
}
