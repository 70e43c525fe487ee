import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import type {} from "@patchbay/testing/globalSetup"
import { inject } from "vitest"

const root = fileURLToPath(new URL("..", import.meta.url))

const run = async (env: Record<string, string>) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--conditions=@patchbay/source", "src/main.ts"],
    { cwd: root, timeout: 200_000, env: { ...process.env, ...env, NO_COLOR: "1" } }
  )
  return stdout
}

const steps = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line.startsWith("✓ "))
    .map((line) => line.slice(2, 36).trim())

const common = [
  "create Postgres instance",
  "store organization credential",
  "masked view",
  "test connection",
  "health check",
  "preview DDL (rolled back)",
  "execute DDL",
  "discover schema",
  "run query (insert)",
  "run query (select, capped)",
  "refuse DROP without a reason",
  "create SMTP instance",
  "store SMTP credential (expires)",
  "send email"
]

const assertShared = (stdout: string) => {
  assert.match(stdout, /test connection\s+success: PostgreSQL/)
  assert.match(stdout, /health check\s+healthy/)
  assert.match(stdout, /discover schema\s+events\(id\*, name, created_at\)/)
  assert.match(stdout, /run query \(select, capped\)\s+10 rows \(id:integer, name:text\), truncated=true/)
  assert.match(stdout, /refuse DROP without a reason\s+ActivityRejected: .*needs a reason/)
  assert.match(stdout, /masked view\s+has_credentials=true, credential \{"password":"••••••••"/)
  assert.match(stdout, /list expiring credentials \(30 days\) SMTP "smtp-notifications" in 1[34]\.\d days/)
  assert.match(stdout, /bulk health check\s+healthy [\d.]+ ms, healthy [\d.]+ ms/)
  assert.match(stdout, /\nDone\.\n/)
  for (const secret of ["first-password", "mail-pass", 'rotated-outside"']) assert.notInclude(stdout, secret)
}

describe("quickstart", () => {
  it("runs on embedded defaults: PGlite store and target, smtp-server mail sink", { timeout: 240_000 }, async () => {
    const stdout = await run({})
    assert.deepStrictEqual(steps(stdout).slice(0, common.length), common)
    assertShared(stdout)
    assert.match(stdout, /send email after rotation\s+ReconnectRequired: .*smtp-notifications/)
    assert.match(stdout, /store new credential version\s+version 2/)
    assert.match(stdout, /send email again\s+accepted/)
    assert.deepStrictEqual(
      stdout.match(/instance status\s+(\w+)/g)?.map((s) => s.split(/\s+/).at(-1)),
      ["reconnect_required", "active"]
    )
  })

  it("shows the database password rotation on a real PostgreSQL", { timeout: 240_000 }, async () => {
    const stdout = await run({ PATCHBAY_QUICKSTART_DATABASE_URL: inject("databaseUrl") })
    assert.deepStrictEqual(steps(stdout).slice(0, common.length), common)
    assertShared(stdout)
    assert.match(stdout, /run query after rotation\s+ReconnectRequired: Connection "pg-reporting-stage" \(postgres\)/)
    assert.match(stdout, /run query again\s+25 events/)
    assert.deepStrictEqual(
      stdout.match(/instance status\s+(\w+)/g)?.map((s) => s.split(/\s+/).at(-1)),
      ["reconnect_required", "active"]
    )
  })
})
