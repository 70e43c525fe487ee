/**
 * TLS material for tests, made with openssl: a throwaway self-signed certificate, and a CA with
 * server and client certificates for database servers.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A throwaway self-signed certificate for `localhost` and 127.0.0.1 (openssl), as PEM. */
export const selfSignedCertificate = (): { readonly key: string; readonly cert: string } => {
  const dir = mkdtempSync(join(tmpdir(), "patchbay-tls-"))
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem")
      ],
      { stdio: "ignore" }
    )
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Throwaway TLS material for a database server under test, in a directory of its own: a CA, a
 * server certificate it signs for `localhost` only (not 127.0.0.1, so that a check of the wrong
 * host name fails), a client certificate for `clientUser` (client authentication), and an
 * unrelated CA. Certificates are PEM strings; the server's files are found with `path`.
 */
export interface TestCertificates {
  readonly dir: string
  /** The CA that signed the server's and the client's certificates. */
  readonly ca: string
  /** A CA that signed nothing here. */
  readonly otherCa: string
  readonly clientCert: string
  readonly clientKey: string
  readonly path: (file: "ca.crt" | "server.crt" | "server.key") => string
  /** Removes the directory. */
  readonly dispose: () => void
}

const openssl = (args: ReadonlyArray<string>) => execFileSync("openssl", [...args], { stdio: "ignore" })

/**
 * Makes `TestCertificates`. The server process must read its files: with `owner` (PostgreSQL, which
 * refuses a key other users can read) the directory and the server's files are given to that system
 * user; without it they are made readable by everyone (MariaDB, running as `mysql`).
 */
export const testCertificates = (options: {
  readonly clientUser?: string | undefined
  readonly owner?: string | undefined
}): TestCertificates => {
  const dir = mkdtempSync(join(tmpdir(), "patchbay-pki-"))
  const path = (name: string) => join(dir, name)
  const ca = (name: string) =>
    openssl(
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${name}`].concat([
        "-keyout",
        path(`${name}.key`),
        "-out",
        path(`${name}.crt`)
      ])
    )
  const signed = (name: string, subject: string, extensions: string) => {
    openssl(
      ["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", path(`${name}.key`)].concat([
        "-out",
        path(`${name}.csr`)
      ])
    )
    writeFileSync(path(`${name}.ext`), extensions)
    openssl(
      ["x509", "-req", "-in", path(`${name}.csr`), "-CA", path("ca.crt"), "-CAkey", path("ca.key")].concat([
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        path(`${name}.ext`),
        "-out",
        path(`${name}.crt`)
      ])
    )
  }
  ca("ca")
  ca("other-ca")
  signed("server", "/CN=localhost", "subjectAltName=DNS:localhost\n")
  signed("client", `/CN=${options.clientUser ?? "client"}`, "extendedKeyUsage=clientAuth\n")
  const served = ["ca.crt", "server.crt", "server.key"]
  if (options.owner !== undefined) {
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, options.owner as string], { encoding: "utf8" }).trim())
    const [uid, gid] = [id("-u"), id("-g")]
    for (const name of ["", ...served]) chownSync(path(name), uid, gid)
  } else {
    chmodSync(dir, 0o755)
    for (const name of served) chmodSync(path(name), 0o644)
  }
  const read = (name: string) => readFileSync(path(name), "utf8")
  return {
    dir,
    ca: read("ca.crt"),
    otherCa: read("other-ca.crt"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    path,
    dispose: () => rmSync(dir, { recursive: true, force: true })
  }
}
