/**
 * The real PostgreSQL of the test run, for the database activities: a superuser's statements,
 * throwaway roles each owning a database of its name, and the PostgreSQL connector on loopback.
 */
import { PostgresConnector, PostgresPools } from "@patchbay/connector-postgres"
import { EgressPolicy } from "@patchbay/core"
import type {} from "@patchbay/testing/globalSetup"
import { Effect } from "effect"
import pg from "pg"
import { afterAll, beforeAll, inject } from "vitest"

export const superuser = inject("databaseUrl")
export const port = Number(new URL(superuser).port)

/** Runs one statement as the superuser in `database`; its rows. */
export const admin = async (statement: string, database = "postgres") => {
  const client = new pg.Client({
    connectionString: Object.assign(new URL(superuser), { pathname: `/${database}` }).toString()
  })
  await client.connect()
  try {
    return (await client.query(statement)).rows
  } finally {
    await client.end()
  }
}

/** For the file's tests: each role logs in with `password` and owns a database (and its public schema) of its name. */
export const ownedDatabases = (roles: ReadonlyArray<string>, password: string) => {
  beforeAll(async () => {
    for (const role of roles) {
      await admin(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`)
      await admin(`DROP ROLE IF EXISTS ${role}`)
      await admin(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
      await admin(`CREATE DATABASE ${role} OWNER ${role}`)
      await admin(`ALTER SCHEMA public OWNER TO ${role}`, role)
    }
  })
  afterAll(async () => {
    for (const role of roles) {
      await admin(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`)
      await admin(`DROP ROLE IF EXISTS ${role}`)
    }
  })
}

/** The PostgreSQL connector on pools of its own, loopback allowed. */
export const postgres = Effect.runSync(
  Effect.provideService(
    PostgresConnector.fromPools,
    PostgresPools.PostgresPools,
    PostgresPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }))
  )
)
