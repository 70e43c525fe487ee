import { type ConnectorDriver, ConnectorInstance, EgressPolicy, Ids } from "@patchbay/core"
import * as Schema from "effect/Schema"
import mysql from "mysql2/promise"
import { inject } from "vitest"
import * as MysqlConnector from "../src/MysqlConnector.js"
import * as MysqlDescriptor from "../src/MysqlDescriptor.js"
import * as MysqlPools from "../src/MysqlPools.js"

export const serverUrl = inject("mariadbUrl")
/** Debian's MariaDB is missing outside CI: the suites skip (globalSetup said so loudly). */
export const missing = serverUrl === ""
export const serverPort = missing ? 0 : Number(new URL(serverUrl).port)

/** Runs statements as the superuser and returns the last one's rows. */
export const admin = async (statements: ReadonlyArray<string>, values: ReadonlyArray<unknown> = []) => {
  const connection = await mysql.createConnection({ uri: serverUrl })
  try {
    let rows: unknown = []
    for (const statement of statements) [rows] = await connection.query(statement, [...values])
    return rows as Array<Record<string, unknown>>
  } finally {
    await connection.end()
  }
}

/** An account owning a fresh database of the same name. */
export interface Fixture {
  readonly name: string
  readonly password: string
  readonly drop: () => Promise<void>
}

export const createFixture = async (name: string): Promise<Fixture> => {
  const password = `pw-${name}-secret`
  await admin([
    `DROP DATABASE IF EXISTS ${name}`,
    `DROP USER IF EXISTS '${name}'@'%'`,
    `CREATE DATABASE ${name}`,
    `CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`,
    `GRANT ALL PRIVILEGES ON ${name}.* TO '${name}'@'%'`
  ])
  return {
    name,
    password,
    drop: async () => {
      await admin([`DROP DATABASE IF EXISTS ${name}`, `DROP USER IF EXISTS '${name}'@'%'`])
    }
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
  } = {}
): MysqlConnector.Context => {
  const configuration = {
    host: "127.0.0.1",
    port: serverPort,
    database: fixture.name,
    ssl_mode: "disable",
    ...overrides.configuration
  }
  counter++
  const instance = ConnectorInstance.fresh({
    id: Ids.InstanceId.make(`0190c000-0000-7000-8000-${String(counter).padStart(12, "0")}`),
    orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
    connector: { id: MysqlDescriptor.id, key: "mysql" },
    instanceName: `${fixture.name} ${counter}`,
    configuration,
    authType: "database_password",
    hasCredentials: true,
    at: new Date()
  })
  return {
    instance,
    credential: overrides.credential ?? { id: "credential-1", version: 1, scope: "organization:test" },
    configuration: Schema.decodeUnknownSync(MysqlDescriptor.Configuration)(configuration),
    credentials: Schema.decodeUnknownSync(MysqlDescriptor.Credentials)({
      username: overrides.username ?? fixture.name,
      password: overrides.password ?? fixture.password
    })
  }
}

/** Pools that may reach loopback, as tests need, and the driver on them. */
export const makeDriver = (options: MysqlPools.PoolOptions = {}) => {
  const pools = MysqlPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }), options)
  return { pools, driver: MysqlConnector.make(pools) }
}
