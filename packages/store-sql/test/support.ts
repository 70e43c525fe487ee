/**
 * PostgreSQL test support: a fresh database per store under test on the run's server.
 */

import type {} from "@patchbay/testing/globalSetup"
import { Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { SqlStore } from "../src/index.js"

/** The run's server (see packages/testing/src/globalSetup.ts). */
export const serverUrl = (): string => inject("databaseUrl")

const admin = <A>(url: string, f: (client: pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

/** A new, empty database on the server at `url`, dropped when the scope closes; its URL. */
export const freshDatabase = (url: string = serverUrl()) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const name = `patchbay_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
      yield* admin(url, (client) => client.query(`CREATE DATABASE ${name}`))
      const target = new URL(url)
      target.pathname = `/${name}`
      return { name, url: target.toString() }
    }),
    ({ name }) =>
      admin(url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).pipe(
        Effect.timeout("10 seconds"),
        Effect.ignore
      )
  )

/** Runs SQL as the superuser against a database; the driver's error on failure. */
export const query = (url: string, sql: string, params: ReadonlyArray<unknown> = []) =>
  Effect.tryPromise({
    try: async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        return await client.query(sql, [...params])
      } finally {
        await client.end()
      }
    },
    catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause)))
  })

/** `layerPg` on a fresh database of the run's server. */
export const layerPgFresh = (options: SqlStore.PgOptions = {}) =>
  Layer.unwrapScoped(
    Effect.map(freshDatabase(), ({ url }) => SqlStore.layerPg({ ...options, url: Redacted.make(url) }))
  )
