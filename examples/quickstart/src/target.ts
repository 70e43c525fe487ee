/**
 * The database the quickstart connects to: PGlite served over the PostgreSQL wire protocol by
 * pglite-socket (no server needed), or a real PostgreSQL when PATCHBAY_QUICKSTART_DATABASE_URL names
 * one (a superuser URL: the quickstart creates its own role and database there).
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import pg from "pg"

export interface TargetDatabase {
  readonly kind: "pglite" | "postgresql"
  readonly host: string
  readonly port: number
  readonly database: string
  readonly username: string
  readonly password: string
  /** Changes the password outside Patchbay; false when the server does not check passwords (PGlite). */
  readonly rotatePassword: (password: string) => Promise<boolean>
  readonly close: () => Promise<void>
}

const role = "quickstart_app"

const startPostgres = async (url: string): Promise<TargetDatabase> => {
  const admin = async (statements: ReadonlyArray<string>, database?: string) => {
    const target = new URL(url)
    if (database !== undefined) target.pathname = `/${database}`
    const client = new pg.Client({ connectionString: target.toString() })
    await client.connect()
    try {
      for (const statement of statements) await client.query(statement)
    } finally {
      await client.end()
    }
  }
  const password = "first-password"
  await admin([
    "DROP DATABASE IF EXISTS quickstart WITH (FORCE)",
    `DROP ROLE IF EXISTS ${role}`,
    `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`,
    `CREATE DATABASE quickstart OWNER ${role}`
  ])
  await admin([`ALTER SCHEMA public OWNER TO ${role}`], "quickstart")
  const parsed = new URL(url)
  return {
    kind: "postgresql",
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    database: "quickstart",
    username: role,
    password,
    rotatePassword: async (next) => {
      await admin([
        `ALTER ROLE ${role} PASSWORD '${next}'`,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`
      ])
      return true
    },
    close: () => admin(["DROP DATABASE IF EXISTS quickstart WITH (FORCE)", `DROP ROLE IF EXISTS ${role}`])
  }
}

const startPglite = async (): Promise<TargetDatabase> => {
  const db = await PGlite.create()
  const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections: 32 })
  await server.start()
  const port = Number(server.getServerConn().split(":").at(-1))
  return {
    kind: "pglite",
    host: "127.0.0.1",
    port,
    database: "postgres",
    username: role,
    password: "first-password",
    rotatePassword: async () => false,
    close: async () => {
      await server.stop()
      await db.close()
    }
  }
}

export const start = (): Promise<TargetDatabase> => {
  const url = process.env.PATCHBAY_QUICKSTART_DATABASE_URL
  return url ? startPostgres(url) : startPglite()
}
