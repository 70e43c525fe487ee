/**
 * The built `patchbay` executable (`dist/bin.js`, made by `pnpm build`), run as an operator would:
 * its output and its exit codes.
 */

import { execFile, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Patchbay } from "@patchbay/preset"
import { PgliteStore } from "@patchbay/store-pglite"
import { Migrations } from "@patchbay/store-sql"
import type {} from "@patchbay/testing/globalSetup"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { afterAll, beforeAll, inject } from "vitest"

const bin = join(import.meta.dirname, "..", "dist", "bin.js")
const database = new URL(inject("databaseUrl"))
const orgId = "0190a000-0000-7000-8000-00000000000a"
const otherOrgId = "0190a000-0000-7000-8000-00000000000f"
const actor = Schema.decodeSync(Actor.ActorInfo)({ orgId })

interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the executable to its end. */
const patchbay = (...args: ReadonlyArray<string>) =>
  Effect.async<Ran>((resume) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, PATCHBAY_EGRESS_ALLOW_LOOPBACK: "true", NO_COLOR: "1" } },
      (error, stdout, stderr) =>
        resume(Effect.succeed({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }))
    )
  })

const json = (ran: Ran): unknown => JSON.parse(ran.stdout)

let dir: string
let dataDir: string
beforeAll(() => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run pnpm build first`)
  dir = mkdtempSync(join(tmpdir(), "patchbay-cli-"))
  dataDir = join(dir, "data")
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The key file's variables, as Patchbay reads them. */
const keyFile = () =>
  new Map(
    readFileSync(join(dataDir, "keys.env"), "utf8")
      .split("\n")
      .filter((line) => line.includes("=") && !line.startsWith("#"))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const)
  )

/** Stores instances in the data directory through the library (the CLI is not running then). */
const seed = (
  instances: ReadonlyArray<{
    readonly name: string
    readonly password: string
    readonly expiresAt?: Date
    readonly database?: string
  }>
) =>
  Effect.gen(function* () {
    const connectors = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const ids: Array<string> = []
    for (const { database: databaseName, expiresAt, name, password } of instances) {
      const instance = yield* connectors.create({
        connector: "postgres",
        instanceName: name,
        configuration: {
          host: database.hostname,
          port: Number(database.port),
          database: databaseName ?? database.pathname.slice(1),
          ssl_mode: "disable"
        }
      })
      yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgId },
        credentials: { username: decodeURIComponent(database.username), password },
        ...(expiresAt === undefined ? {} : { expiresAt: expiresAt.toISOString() })
      })
      ids.push(instance.id)
    }
    return ids
  }).pipe(
    Effect.provideService(Actor.Actor, actor),
    Effect.provide(
      Patchbay.layer({
        store: PgliteStore.layer({ dataDir: join(dataDir, "store") }),
        connectors: [PostgresConnector.connector],
        keys: "config",
        egress: { allowLoopback: true }
      }).pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(keyFile()))))
    )
  )

describe("patchbay", () => {
  it.effect("answers usage errors with exit 2", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* patchbay("--help")).code, 0)
      assert.strictEqual((yield* patchbay("no-such-command")).code, 2)
      assert.strictEqual(
        (yield* patchbay("instances", "list", "--data-dir", join(dir, "unused"), "--org", "not-a-uuid")).code,
        2
      )
      assert.isFalse(existsSync(join(dir, "unused")), "a usage error opens no store")
    })
  )

  it.effect("migrates a new data directory and makes its key file, private to the user", () =>
    Effect.gen(function* () {
      const ran = yield* patchbay("migrate", "--data-dir", dataDir, "--json")
      assert.strictEqual(ran.code, 0, ran.stderr)
      assert.deepStrictEqual(json(ran), { schemaVersion: Migrations.latest })
      const verified = yield* patchbay("keys", "verify", "--data-dir", dataDir, "--json")
      assert.strictEqual(verified.code, 0, verified.stderr)
      assert.strictEqual(statSync(join(dataDir, "keys.env")).mode & 0o777, 0o600)
      assert.match(keyFile().get("PATCHBAY_KEYRING") ?? "", /^k\d{12}[0-9a-f]{3}:[A-Za-z0-9+/]{43}=$/)
    })
  )

  it.effect("generates key entries of 32 random bytes", () =>
    Effect.gen(function* () {
      const first = json(yield* patchbay("keys", "generate", "--json", "--id", "next")) as { id: string; key: string }
      const second = json(yield* patchbay("keys", "generate", "--json")) as { id: string; key: string }
      assert.strictEqual(first.id, "next")
      assert.strictEqual(Buffer.from(first.key, "base64").length, 32)
      assert.notStrictEqual(first.key, second.key)
    })
  )

  it.effect("lists, tests and health-checks instances, and lists expiring credentials", () =>
    Effect.gen(function* () {
      const [good, bad] = yield* seed([
        {
          name: "warehouse",
          password: decodeURIComponent(database.password),
          expiresAt: new Date(Date.now() + 3 * 86_400_000)
        },
        // Another database: the same account twice would be refused as a duplicate.
        { name: "wrong-password", password: "not-the-password", database: "template1" }
      ])
      const listed = yield* patchbay("instances", "list", "--data-dir", dataDir, "--org", orgId, "--json")
      assert.strictEqual(listed.code, 0, listed.stderr)
      assert.deepStrictEqual((json(listed) as Array<{ instanceName: string }>).map((i) => i.instanceName).sort(), [
        "warehouse",
        "wrong-password"
      ])
      const elsewhere = yield* patchbay("instances", "list", "--data-dir", dataDir, "--org", otherOrgId, "--json")
      assert.deepStrictEqual(json(elsewhere), [])

      const tested = yield* patchbay("instances", "test", "--data-dir", dataDir, "--org", orgId, "--json", good!)
      assert.strictEqual(tested.code, 0, tested.stderr)
      assert.strictEqual((json(tested) as Array<{ status: string }>)[0]!.status, "success")
      const failed = yield* patchbay("instances", "test", "--data-dir", dataDir, "--org", orgId, good!, bad!)
      assert.strictEqual(failed.code, 1)
      assert.match(failed.stdout, /failed/)
      assert.notInclude(failed.stdout + failed.stderr, "not-the-password")
      const health = yield* patchbay("instances", "health", "--data-dir", dataDir, "--org", orgId, "--json", good!)
      assert.strictEqual(health.code, 0, health.stderr)
      assert.strictEqual((json(health) as Array<{ status: string }>)[0]!.status, "healthy")
      const missing = yield* patchbay(
        "instances",
        "test",
        "--data-dir",
        dataDir,
        "--org",
        orgId,
        "0190a000-0000-7000-8000-0000000000ff"
      )
      assert.strictEqual(missing.code, 5)

      const expiring = yield* patchbay(
        "credentials",
        "expiring",
        "--data-dir",
        dataDir,
        "--org",
        orgId,
        "--days",
        "30",
        "--json"
      )
      assert.strictEqual(expiring.code, 0, expiring.stderr)
      assert.deepStrictEqual(
        (json(expiring) as Array<{ instanceName: string }>).map((c) => c.instanceName),
        ["warehouse"]
      )
      assert.notInclude(expiring.stdout, decodeURIComponent(database.password))
    })
  )

  it.effect("rotates to a fresh primary key, after which the old key may retire; a missing key exits 1", () =>
    Effect.gen(function* () {
      const before = keyFile().get("PATCHBAY_PRIMARY_KEY_ID")
      const rotated = yield* patchbay("keys", "rotate", "--data-dir", dataDir, "--json")
      assert.strictEqual(rotated.code, 0, rotated.stderr)
      const report = json(rotated) as { primary: string; rewrapped: number; failed: Array<unknown> }
      assert.notStrictEqual(report.primary, before)
      assert.strictEqual(report.rewrapped, 2)
      assert.deepStrictEqual(report.failed, [])
      assert.match(rotated.stderr, /re-wrapped 2 credentials/)
      const verified = json(yield* patchbay("keys", "verify", "--data-dir", dataDir, "--json")) as {
        retirable: Array<string>
      }
      assert.deepStrictEqual(verified.retirable, [before])

      // Drop the primary key from the ring: the stored credentials name a key the ring lacks.
      const keys = keyFile()
      const others = (keys.get("PATCHBAY_KEYRING") ?? "")
        .split(",")
        .filter((entry) => !entry.startsWith(`${report.primary}:`))
      writeFileSync(
        join(dataDir, "keys.env"),
        `PATCHBAY_KEYRING=${others.join(",")}\nPATCHBAY_PRIMARY_KEY_ID=${before}\nPATCHBAY_FINGERPRINT_KEY=${keys.get("PATCHBAY_FINGERPRINT_KEY")}\n`
      )
      const broken = yield* patchbay("keys", "verify", "--data-dir", dataDir, "--json")
      assert.strictEqual(broken.code, 1)
      assert.deepStrictEqual(json(broken), { ok: false, missing: [report.primary] })
    })
  )

  it.effect("uses a shared PostgreSQL store with --database-url, and exits 4 when it is unreachable", () =>
    Effect.gen(function* () {
      const migrated = yield* patchbay("migrate", "--database-url", database.href, "--json")
      assert.strictEqual(migrated.code, 0, migrated.stderr)
      const unreachable = new URL(database.href)
      unreachable.port = "1"
      const down = yield* patchbay("migrate", "--database-url", unreachable.href)
      assert.strictEqual(down.code, 4)
      assert.notInclude(down.stderr, decodeURIComponent(database.password))
    })
  )

  it.effect(
    "serves the API, its OpenAPI document, the reference page, MCP and the Connect UI on embedded defaults",
    () =>
      Effect.gen(function* () {
        const serveDir = join(dir, "served")
        const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--data-dir", serveDir], {
          env: { ...process.env, NO_COLOR: "1" },
          stdio: ["ignore", "pipe", "pipe"]
        })
        const exited = Effect.async<number | null>((resume) => {
          if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
          child.once("exit", (code) => resume(Effect.succeed(code)))
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
        // The line the server prints once it listens carries its origin.
        const origin = yield* Effect.async<string, Error>((resume) => {
          let output = ""
          child.stdout.on("data", (chunk: Buffer) => {
            output += chunk.toString()
            const match = /Patchbay on (http:\/\/[^:]+:\d+)/.exec(output)
            if (match) resume(Effect.succeed(match[1]!))
          })
          child.once("exit", (code) => resume(Effect.fail(new Error(`serve exited with ${code}: ${output}`))))
        })
        const get = (path: string) =>
          Effect.promise(async () => {
            const response = await fetch(`${origin}${path}`)
            return {
              status: response.status,
              type: response.headers.get("content-type") ?? "",
              body: await response.text()
            }
          })

        const openapi = yield* get("/openapi.json")
        assert.strictEqual(openapi.status, 200)
        assert.strictEqual((JSON.parse(openapi.body) as { openapi: string }).openapi.slice(0, 3), "3.1")
        const docs = yield* get("/docs")
        assert.strictEqual(docs.status, 200)
        assert.notMatch(docs.body, /<script[^>]+src="https?:/)
        const ui = yield* get("/")
        assert.strictEqual(ui.status, 200)
        assert.include(ui.type, "text/html")
        assert.include(ui.body, "postgres")
        const mcp = yield* Effect.promise(() =>
          fetch(`${origin}/mcp`, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
            body: JSON.stringify({
              jsonrpc: "2.0",
              id: 1,
              method: "initialize",
              params: {
                protocolVersion: "2025-06-18",
                capabilities: {},
                clientInfo: { name: "bin.test", version: "0" }
              }
            })
          })
        )
        assert.strictEqual(mcp.status, 200)
        assert.include(yield* Effect.promise(() => mcp.text()), "serverInfo")

        child.kill("SIGTERM")
        assert.strictEqual(yield* exited, 0)
      }).pipe(Effect.scoped)
  )

  it.effect("serves MCP over stdio as one agent: newline-delimited JSON-RPC on stdin and stdout", () =>
    Effect.gen(function* () {
      const child = spawn(
        process.execPath,
        [bin, "mcp", "--data-dir", join(dir, "mcp"), "--org", orgId, "--agent", "0190a000-0000-7000-8000-0000000000a7"],
        { env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] }
      )
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      const lines: Array<string> = []
      const waiting = new Map<number, (line: unknown) => void>()
      let buffer = ""
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString()
        let newline = buffer.indexOf("\n")
        while (newline >= 0) {
          const line = buffer.slice(0, newline)
          buffer = buffer.slice(newline + 1)
          lines.push(line)
          const message = JSON.parse(line) as { id?: number }
          if (message.id !== undefined) waiting.get(message.id)?.(message)
          newline = buffer.indexOf("\n")
        }
      })
      let stderr = ""
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      const call = (id: number, method: string, params: unknown) =>
        Effect.async<unknown, Error>((resume) => {
          waiting.set(id, (message) => resume(Effect.succeed(message)))
          child.once("exit", (code) => resume(Effect.fail(new Error(`mcp exited with ${code}: ${stderr}`))))
          child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`)
        })
      const initialized = (yield* call(1, "initialize", {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "bin.test", version: "0" }
      })) as { result: { serverInfo: { name: string } } }
      assert.isString(initialized.result.serverInfo.name)
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`)
      const listed = (yield* call(2, "tools/list", {})) as { result: { tools: Array<{ name: string }> } }
      assert.isArray(listed.result.tools)
      // Every line on stdout is protocol: logs went to stderr.
      for (const line of lines) assert.strictEqual((JSON.parse(line) as { jsonrpc: string }).jsonrpc, "2.0")
      const exited = Effect.async<number | null>((resume) => {
        child.once("exit", (code) => resume(Effect.succeed(code)))
      })
      child.stdin.end()
      assert.strictEqual(yield* exited, 0)
    }).pipe(Effect.scoped)
  )
})
