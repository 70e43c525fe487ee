import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("..", import.meta.url))

describe("quickstart", () => {
  it("runs every step and prints one line per step", { timeout: 240_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--conditions=@patchbay/source", "src/main.ts"],
      { cwd: root, timeout: 230_000, env: { ...process.env, NO_COLOR: "1" } }
    )
    const steps = stdout.split("\n").filter((line) => line.startsWith("✓ "))
    const expected = [
      "create instance",
      "refuse a duplicate name",
      "refuse a secret in configuration",
      "use a disabled instance",
      "delete"
    ]
    for (const name of expected) {
      assert.isTrue(
        steps.some((line) => line.startsWith(`✓ ${name}`)),
        `missing step "${name}" in:\n${stdout}`
      )
    }
    assert.match(stdout, /NameTaken: A postgres connection named "PG-Reporting-Stage" already exists/)
    assert.notInclude(stdout, "hunter2")
  })
})
