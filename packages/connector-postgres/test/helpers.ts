import { type ConnectorDriver, ConnectorInstance, EgressPolicy, Ids } from "@patchbay/core"
import type {} from "@patchbay/testing/globalSetup"
import * as Schema from "effect/Schema"
import pg from "pg"
import { inject } from "vitest"
import * as PostgresConnector from "../src/PostgresConnector.js"
import * as PostgresDescriptor from "../src/PostgresDescriptor.js"
import * as PostgresPools from "../src/PostgresPools.js"

export const superuserUrl = inject("databaseUrl")
export const serverPort = Number(new URL(superuserUrl).port)

/** Runs statements as the superuser, on `database` (default: postgres). */
export const admin = async (statements: ReadonlyArray<string>, database = "postgres") => {
  const url = new URL(superuserUrl)
  url.pathname = `/${database}`
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    for (const statement of statements) await client.query(statement)
  } finally {
    await client.end()
  }
}

/** Runs one statement as the superuser and returns its rows. */
export const adminQuery = async (text: string, values: ReadonlyArray<unknown> = []) => {
  const client = new pg.Client({ connectionString: superuserUrl })
  await client.connect()
  try {
    return (await client.query(text, [...values])).rows as Array<Record<string, unknown>>
  } finally {
    await client.end()
  }
}

/** A login role owning a fresh database of the same name. */
export interface Fixture {
  readonly name: string
  readonly password: string
  /** Runs SQL as the role, on its database. */
  readonly sql: (text: string, values?: ReadonlyArray<unknown>) => Promise<pg.QueryResult>
  readonly drop: () => Promise<void>
}

export const createFixture = async (name: string): Promise<Fixture> => {
  const password = `pw-${name}-secret`
  await admin([
    `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
    `DROP ROLE IF EXISTS ${name}`,
    `CREATE ROLE ${name} LOGIN PASSWORD '${password}'`,
    `CREATE DATABASE ${name} OWNER ${name}`
  ])
  await admin([`GRANT ALL ON SCHEMA public TO ${name}`, `ALTER SCHEMA public OWNER TO ${name}`], name)
  const sql = async (text: string, values?: ReadonlyArray<unknown>) => {
    const client = new pg.Client({ host: "127.0.0.1", port: serverPort, user: name, password, database: name })
    await client.connect()
    try {
      return await client.query(text, values === undefined ? undefined : [...values])
    } finally {
      await client.end()
    }
  }
  return {
    name,
    password,
    sql,
    drop: () => admin([`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `DROP ROLE IF EXISTS ${name}`])
  }
}

let counter = 0

/** A driver context for the fixture's database; `overrides` change configuration or credentials. */
export const contextFor = (
  fixture: Fixture,
  overrides: {
    readonly configuration?: Record<string, unknown>
    readonly username?: string
    readonly password?: string
    readonly credential?: ConnectorDriver.CredentialVersion
    readonly instanceId?: string
  } = {}
): PostgresConnector.Context => {
  const configuration = {
    host: "127.0.0.1",
    port: serverPort,
    database: fixture.name,
    ssl_mode: "disable",
    ...overrides.configuration
  }
  const now = new Date()
  counter++
  const instance = ConnectorInstance.fresh({
    id: Ids.InstanceId.make(overrides.instanceId ?? `0190c000-0000-7000-8000-${String(counter).padStart(12, "0")}`),
    orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
    connector: { id: PostgresDescriptor.id, key: "postgres" },
    instanceName: `${fixture.name} ${counter}`,
    configuration,
    authType: "database_password",
    hasCredentials: true,
    at: now
  })
  return {
    instance,
    credential: overrides.credential ?? { id: "credential-1", version: 1, scope: "organization:test" },
    configuration: Schema.decodeUnknownSync(PostgresDescriptor.Configuration)(configuration),
    credentials: Schema.decodeUnknownSync(PostgresDescriptor.Credentials)({
      username: overrides.username ?? fixture.name,
      password: overrides.password ?? fixture.password
    })
  }
}

/** Pools that may reach loopback, as tests need, and the driver on them. */
export const makeDriver = (options: PostgresPools.PoolOptions = {}) => {
  const pools = PostgresPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }), options)
  return { pools, driver: PostgresConnector.make(pools) }
}
