/**
 * A throwaway SSH server on 127.0.0.1 for tests, from Debian's `openssh-server`: `sshd` on a free
 * port with its own configuration, a fresh host key, a fresh client key pair authorised for a
 * throwaway system user that also has a password (password authentication without PAM), and TCP
 * forwarding allowed. Needs root (sshd and `useradd`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./Ports.js"

/** A running server. */
export interface SshServer {
  readonly port: number
  /** The throwaway user that may log in. */
  readonly username: string
  /** Its password. */
  readonly password: string
  /** An authorised private key (OpenSSH format, no passphrase). */
  readonly privateKey: string
  /** The same key encrypted with `passphrase`. */
  readonly encryptedPrivateKey: string
  readonly passphrase: string
  /** A private key that is not authorised. */
  readonly otherPrivateKey: string
  /** The host key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`). */
  readonly hostKeyFingerprint: string
  /** Logins the server accepted so far (one per SSH connection). */
  readonly accepted: () => number
  /** Logins that have ended so far. */
  readonly disconnected: () => number
  /** Stops the server, removes the user and the files. */
  readonly dispose: () => Promise<void>
}

const sshd = "/usr/sbin/sshd"
const keygen = "/usr/bin/ssh-keygen"

/** Whether Debian's sshd is installed and we may run it (root). */
export const available = (): boolean =>
  existsSync(sshd) && existsSync(keygen) && typeof process.getuid === "function" && process.getuid() === 0

const newKey = (path: string, passphrase = "") =>
  execFileSync(keygen, ["-q", "-t", "ed25519", "-N", passphrase, "-C", "patchbay-test", "-f", path], {
    stdio: "ignore"
  })

const fingerprintOf = (publicKeyPath: string): string => {
  const line = execFileSync(keygen, ["-l", "-E", "sha256", "-f", publicKeyPath], { encoding: "utf8" })
  const found = /SHA256:[A-Za-z0-9+/]+/.exec(line)
  if (found === null) throw new Error(`no fingerprint in: ${line}`)
  return found[0]
}

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
  })

/** Starts a server; throws when sshd is missing or we are not root (see `available`). */
export const start = async (): Promise<SshServer> => {
  const dir = mkdtempSync(join(tmpdir(), "patchbay-sshd-"))
  const username = `pbssh${randomBytes(4).toString("hex")}`
  const password = randomBytes(12).toString("base64url")
  const passphrase = randomBytes(12).toString("base64url")
  let userAdded = false
  const cleanup = () => {
    if (userAdded) {
      try {
        execFileSync("userdel", [username], { stdio: "ignore" })
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }
  let server: ChildProcess | undefined
  try {
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 })
    newKey(join(dir, "host_key"))
    newKey(join(dir, "client_key"))
    newKey(join(dir, "other_key"))
    writeFileSync(join(dir, "encrypted_key"), readFileSync(join(dir, "client_key")), { mode: 0o600 })
    execFileSync(keygen, ["-q", "-p", "-N", passphrase, "-P", "", "-f", join(dir, "encrypted_key")], {
      stdio: "ignore"
    })
    writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o644 })
    // sshd reads the authorised keys as the user: the directory must let it through (the private keys stay 0600).
    chmodSync(dir, 0o711)
    execFileSync("useradd", ["-M", "-d", dir, "-s", "/bin/sh", username], { stdio: "ignore" })
    userAdded = true
    execFileSync("chpasswd", [], { input: `${username}:${password}\n`, stdio: ["pipe", "ignore", "ignore"] })
    const port = await freePort()
    writeFileSync(
      join(dir, "sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        `AllowUsers ${username}`,
        "StrictModes no",
        "UsePAM no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "AllowTcpForwarding yes",
        "PermitRootLogin no",
        "X11Forwarding no",
        "LogLevel INFO",
        ""
      ].join("\n")
    )
    const started = spawn(sshd, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] })
    server = started
    let log = ""
    let listening: () => void = () => {}
    const ready = new Promise<void>((resolve, reject) => {
      listening = resolve
      started.once("exit", (code) => reject(new Error(`sshd exited (${code}): ${log}`)))
    })
    started.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString("utf8")
      if (log.includes("Server listening on")) listening()
    })
    await ready
    const hostKeyFingerprint = fingerprintOf(join(dir, "host_key.pub"))
    return {
      port,
      username,
      password,
      privateKey: readFileSync(join(dir, "client_key"), "utf8"),
      encryptedPrivateKey: readFileSync(join(dir, "encrypted_key"), "utf8"),
      passphrase,
      otherPrivateKey: readFileSync(join(dir, "other_key"), "utf8"),
      hostKeyFingerprint,
      accepted: () => log.split("\n").filter((line) => line.includes("Accepted ")).length,
      disconnected: () => log.split("\n").filter((line) => line.includes("Disconnected from user")).length,
      dispose: async () => {
        if (started.exitCode === null && started.signalCode === null) {
          started.kill("SIGTERM")
          await exited(started)
        }
        cleanup()
      }
    }
  } catch (error) {
    if (server !== undefined && server.exitCode === null) {
      server.kill("SIGKILL")
      await exited(server)
    }
    cleanup()
    throw error
  }
}
