/**
 * A throwaway PostgreSQL server on 127.0.0.1 for tests and benchmarks.
 *
 * In order of preference: `PATCHBAY_TEST_DATABASE_URL` when set (nothing is started); otherwise
 * Debian's binaries (/usr/lib/postgresql/<version>/bin) in a temporary directory on a free port,
 * run as the `postgres` user when we are root (initdb refuses root); otherwise, loudly, PGlite
 * served over the PostgreSQL wire protocol by pglite-socket.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./Ports.js"

/** A running server. `url` connects as a superuser with a password. */
export interface PostgresServer {
  readonly kind: "external" | "debian" | "pglite"
  readonly url: string
  readonly port: number
  /** Stops the server (fast shutdown); a no-op for an external server. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and data after `stop` (debian only). */
  readonly restart: () => Promise<void>
  /**
   * `pg_ctl restart -m immediate`: every server process quits at once without a checkpoint (as
   * after a crash), and the server comes back up by replaying its WAL; resolves when it accepts
   * connections again (debian only; rejects for the others).
   */
  readonly crashRestart: () => Promise<void>
  /** Stops it and removes its files. */
  readonly dispose: () => Promise<void>
}

export const superuserPassword = "patchbay-test-superuser"

/** The newest Debian PostgreSQL bin directory, if any. */
export const debianBinDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin")
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0

const run = (bin: string, args: ReadonlyArray<string>) => {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, [...args]]
  const result = spawnSync(cmd, argv, { encoding: "utf8" })
  if (result.status !== 0) {
    throw new Error(`${bin} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout}`)
  }
}

/** Options of `start`. */
export interface StartOptions {
  /**
   * Acknowledge a commit only once its WAL is written (`synchronous_commit=on`); by default off, as
   * fast as possible. A test that crashes the server and checks what was acknowledged needs it.
   */
  readonly durableCommits?: boolean | undefined
}

const startDebian = async (bin: string, startOptions: StartOptions): Promise<PostgresServer> => {
  const dir = mkdtempSync(join(tmpdir(), "patchbay-pg-"))
  const data = join(dir, "data")
  const pwfile = join(dir, "pw")
  writeFileSync(pwfile, superuserPassword)
  if (isRoot()) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
    chownSync(dir, uid, gid)
    chownSync(pwfile, uid, gid)
  }
  run(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--pwfile",
    pwfile,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "-E",
    "UTF8",
    "--no-sync"
  ])
  const port = await freePort()
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    `-c synchronous_commit=${startOptions.durableCommits === true ? "on" : "off"}`,
    "-c full_page_writes=off",
    "-c max_connections=200"
  ].join(" ")
  const pgCtl = (action: string, extra: ReadonlyArray<string> = []) =>
    run(join(bin, "pg_ctl"), ["-D", data, "-l", join(dir, "log"), "-w", ...extra, action])
  pgCtl("start", ["-o", options])
  let running = true
  const stop = async () => {
    if (running) pgCtl("stop", ["-m", "fast"])
    running = false
  }
  return {
    kind: "debian",
    url: `postgres://postgres:${superuserPassword}@127.0.0.1:${port}/postgres`,
    port,
    stop,
    restart: async () => {
      if (!running) pgCtl("start", ["-o", options])
      running = true
    },
    crashRestart: async () => {
      pgCtl("restart", ["-m", "immediate", "-o", options])
      running = true
    },
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

const startPglite = async (): Promise<PostgresServer> => {
  const { PGlite } = await import("@electric-sql/pglite")
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket")
  const db = await PGlite.create()
  const port = await freePort()
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1" })
  await server.start()
  const stop = async () => {
    await server.stop()
  }
  return {
    kind: "pglite",
    url: `postgres://postgres:${superuserPassword}@127.0.0.1:${port}/postgres`,
    port,
    stop,
    restart: async () => {
      await server.start()
    },
    crashRestart: () => Promise.reject(new Error("crashRestart needs Debian's PostgreSQL binaries")),
    dispose: async () => {
      await stop()
      await db.close()
    }
  }
}

/** Starts (or points at) a PostgreSQL server; see the module comment for the order of preference. */
export const start = async (options: StartOptions = {}): Promise<PostgresServer> => {
  const external = process.env.PATCHBAY_TEST_DATABASE_URL
  if (external) {
    const port = Number(new URL(external).port || 5432)
    const noop = async () => {}
    const crashRestart = () => Promise.reject(new Error("crashRestart cannot restart an external server"))
    return { kind: "external", url: external, port, stop: noop, restart: noop, crashRestart, dispose: noop }
  }
  const bin = debianBinDir()
  if (bin !== undefined) return startDebian(bin, options)
  process.stderr.write(
    "\n*** No PostgreSQL server binaries found (install Debian's `postgresql` package). ***\n" +
      "*** Running the PostgreSQL suites against PGlite over pglite-socket instead. ***\n\n"
  )
  return startPglite()
}
