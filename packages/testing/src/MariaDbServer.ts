/**
 * A throwaway MariaDB server on 127.0.0.1 for tests and benchmarks, from Debian's `mariadb-server`
 * binaries: a data directory initialised in a temporary directory, `mariadbd` on a free port (run
 * as the `mysql` user when we are root), and a superuser with a password.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./Ports.js"

/** A running server. `url` connects as a superuser with a password. */
export interface MariaDbServer {
  readonly url: string
  readonly port: number
  /** Stops the server and removes its files. */
  readonly dispose: () => Promise<void>
}

/** The superuser `start` creates. */
export const superuser = "patchbay"
/** Its password. */
export const superuserPassword = "patchbay-test-mariadb"

const serverBinary = "/usr/sbin/mariadbd"
const installBinary = "/usr/bin/mariadb-install-db"
const clientBinary = "/usr/bin/mariadb"

/** Whether Debian's MariaDB binaries are installed. */
export const available = (): boolean =>
  existsSync(serverBinary) && existsSync(installBinary) && existsSync(clientBinary)

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0

/** The `mysql` user's ids when we are root (mariadbd refuses to run as root), else nothing. */
const serverUser = (): { uid: number; gid: number } | Record<string, never> => {
  if (!isRoot()) return {}
  const uid = spawnSync("id", ["-u", "mysql"], { encoding: "utf8" }).stdout.trim()
  const gid = spawnSync("id", ["-g", "mysql"], { encoding: "utf8" }).stdout.trim()
  return { uid: Number(uid), gid: Number(gid) }
}

const runSync = (bin: string, args: ReadonlyArray<string>) => {
  const result = spawnSync(bin, [...args], { encoding: "utf8", ...serverUser() })
  if (result.status !== 0) {
    throw new Error(`${bin} failed (${result.status}): ${result.stderr || result.stdout}`)
  }
}

/** Runs SQL as root over the server's socket; resolves with whether it succeeded, and its stderr. */
const client = (socket: string, sql: string): Promise<{ ok: boolean; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(clientBinary, ["--no-defaults", `--socket=${socket}`, "-uroot", "-e", sql], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.on("error", (error) => resolve({ ok: false, stderr: String(error) }))
    child.on("close", (code) => resolve({ ok: code === 0, stderr }))
  })

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
  })

/** Polls until the server answers, with backoff and a bounded number of attempts. */
const waitReady = async (socket: string, server: ChildProcess, log: () => string) => {
  let delay = 25
  let last = ""
  for (let attempt = 0; attempt < 80; attempt++) {
    if (server.exitCode !== null) throw new Error(`mariadbd exited (${server.exitCode}): ${log()}`)
    const result = await client(socket, "SELECT 1")
    if (result.ok) return
    last = result.stderr
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 500)
  }
  throw new Error(`mariadbd did not accept connections: ${last} ${log()}`)
}

/** What a server is started with. */
export interface StartOptions {
  /** More `mariadbd` options (e.g. `--ssl-cert=…`); files they name must be readable by the `mysql` user. */
  readonly args?: ReadonlyArray<string> | undefined
}

/** Starts a server; throws when the binaries are missing (see `available`). */
export const start = async (options: StartOptions = {}): Promise<MariaDbServer> => {
  // Throwaway data in memory when the machine has a tmpfs: creating tables does no disk I/O.
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "patchbay-mariadb-"))
  const data = join(dir, "data")
  const socket = join(dir, "mariadb.sock")
  const user = serverUser()
  if ("uid" in user) chownSync(dir, user.uid, user.gid)
  try {
    runSync(installBinary, [
      "--no-defaults",
      `--datadir=${data}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db"
    ])
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const port = await freePort()
  const args = [
    "--no-defaults",
    `--datadir=${data}`,
    `--socket=${socket}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--pid-file=${join(dir, "mariadbd.pid")}`,
    "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=0",
    // Throwaway data: no per-table files or doublewrite, so that creating many tables is fast.
    "--innodb-file-per-table=0",
    "--innodb-doublewrite=0",
    "--innodb-log-file-size=16M",
    "--innodb-buffer-pool-size=64M",
    "--max-connections=200",
    ...(options.args ?? [])
  ]
  const server = spawn(serverBinary, args, { stdio: ["ignore", "ignore", "pipe"], ...user })
  let log = ""
  server.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-4000)
  })
  const dispose = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill("SIGKILL")
      await exited(server)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitReady(socket, server, () => log)
    const created = await client(
      socket,
      `CREATE USER '${superuser}'@'%' IDENTIFIED BY '${superuserPassword}'; GRANT ALL PRIVILEGES ON *.* TO '${superuser}'@'%' WITH GRANT OPTION;`
    )
    if (!created.ok) throw new Error(`creating the superuser failed: ${created.stderr}`)
  } catch (error) {
    await dispose()
    throw error
  }
  return {
    url: `mysql://${superuser}:${superuserPassword}@127.0.0.1:${port}/mysql`,
    port,
    dispose
  }
}
