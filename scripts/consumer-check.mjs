// The consumer check: Patchbay as a host installs it from npm. Builds the workspace, packs every
// publishable package, installs the tarballs with plain npm into a fresh project outside the
// workspace whose `effect` is another 3.22 patch version than the workspace's, type-checks a host
// app with `skipLibCheck: false` under `moduleResolution` NodeNext and Bundler, and runs it as ESM
// and as CommonJS. Fails if two copies of `effect` are installed.
//
//   node scripts/consumer-check.mjs     (PATCHBAY_CONSUMER_KEEP=1 keeps the temporary project)
//
// The last line is `consumer-check: passed` or `consumer-check: FAILED (<step>)`.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dirname, "..")
const pnpm = ["-y", "pnpm@9.15.9"]
const consumerEffect = process.env.PATCHBAY_CONSUMER_EFFECT ?? "3.22.3"
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"))

class StepFailed extends Error {}

/** Runs a command; on failure prints its output and fails the step. Returns stdout. */
const run = (step, command, args, cwd) => {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" },
      maxBuffer: 64 * 1024 * 1024
    })
  } catch (error) {
    process.stdout.write(`${error.stdout ?? ""}${error.stderr ?? ""}`)
    throw new StepFailed(`${step} exited with ${error.status ?? error.signal}`)
  }
}

const step = (name, action) => {
  const started = performance.now()
  process.stdout.write(`consumer-check: ${name} ... `)
  try {
    const note = action()
    console.log(`ok (${((performance.now() - started) / 1000).toFixed(1)} s)${note ? `: ${note}` : ""}`)
  } catch (error) {
    console.log("failed")
    throw error instanceof StepFailed ? error : new StepFailed(`${name}: ${error.message}`)
  }
}

const publishable = readdirSync(join(root, "packages"))
  .map((dir) => join(root, "packages", dir))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, manifest: readJson(join(dir, "package.json")) }))
  .filter(({ manifest }) => !manifest.private)

/** The host app, the same text as ESM (host.mts) and CommonJS (host.cts). */
const hostApp = (packages) => `// A host of Patchbay, as its README tells one to start.
${packages.map(({ manifest }, i) => `import * as Package${i} from "${manifest.name}"`).join("\n")}
import { PostgresConnector } from "@patchbay/connector-postgres"
import { SmtpConnector } from "@patchbay/connector-smtp"
import { Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Patchbay } from "@patchbay/preset"
import { PgliteStore } from "@patchbay/store-pglite"
import { Effect, ManagedRuntime, Schema } from "effect"

const loaded: Record<string, number> = {
${packages.map(({ manifest }, i) => `  "${manifest.name}": Object.keys(Package${i}).length`).join(",\n")}
}

const PatchbayLive = Patchbay.layer({
  store: PgliteStore.layer(),
  connectors: [PostgresConnector.connector, SmtpConnector.connector],
  keys: "ephemeral"
})

const runtime = ManagedRuntime.make(PatchbayLive)
const actor = Schema.decodeSync(Actor.ActorInfo)({ orgId: "0190a000-0000-7000-8000-00000000000a" })

const program = Effect.gen(function* () {
  const instances = yield* ConnectorInstances.ConnectorInstances
  const vault = yield* CredentialVault.CredentialVault
  const created = yield* instances.create({
    connector: "postgres",
    instanceName: "reporting",
    configuration: { host: "db.example.com", port: 5432, database: "reporting" }
  })
  yield* vault.create({
    instanceId: created.id,
    scope: { type: "organization", id: actor.orgId },
    credentials: { username: "reporter", password: "not-a-real-password" }
  })
  const [credential] = yield* vault.list(created.id)
  return { instance: yield* instances.get(created.id), masked: credential?.masked }
})

const kind = process.argv[2] ?? "?"
runtime
  .runPromise(Effect.provideService(program, Actor.Actor, actor))
  .then(async ({ instance, masked }) => {
    await runtime.dispose()
    const empty = Object.entries(loaded).filter(([, size]) => size === 0)
    if (!instance.hasCredentials || empty.length > 0) throw new Error(\`unexpected: \${JSON.stringify({ instance, empty })}\`)
    console.log(\`\${kind}: \${Object.keys(loaded).length} packages loaded; instance "\${instance.instanceName}" stored with credential \${JSON.stringify(masked)}\`)
  })
  .catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
`

const tsconfig = (compilerOptions, include) =>
  JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        // DOM for the fetch types (HeadersInit) that @modelcontextprotocol/sdk's declarations name
        // without declaring; a host of @patchbay/mcp that checks libraries needs the same.
        lib: ["ES2023", "DOM"],
        types: ["node"],
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        ...compilerOptions
      },
      include
    },
    null,
    2
  )

const main = () => {
  const work = mkdtempSync(join(tmpdir(), "patchbay-consumer-"))
  const tarballs = join(work, "tarballs")
  const app = join(work, "app")
  mkdirSync(tarballs)
  mkdirSync(app)
  const workspaceEffect = readJson(join(root, "packages/core/node_modules/effect/package.json")).version
  try {
    step("pnpm build", () => {
      run("pnpm build", "npx", [...pnpm, "build"], root)
    })

    step(`pnpm pack ${publishable.length} packages`, () => {
      // One npx start for all of them: pnpm is on the PATH of the command `npx -c` runs.
      const quote = (path) => `'${path.replaceAll("'", "'\\''")}'`
      const packs = publishable.map(
        ({ dir }) => `(cd ${quote(dir)} && pnpm pack --pack-destination ${quote(tarballs)})`
      )
      run("pnpm pack", "npx", ["-y", "-p", pnpm[1], "-c", packs.join(" && ")], root)
      return readdirSync(tarballs).join(" ")
    })

    // effect at another 3.22 patch version; each other peer at the range the packages declare.
    const peers = new Map([["effect", consumerEffect]])
    for (const { manifest } of publishable) {
      for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
        if (!peers.has(name)) peers.set(name, range)
      }
    }
    step(`npm install (effect ${consumerEffect}; the workspace has ${workspaceEffect})`, () => {
      if (consumerEffect === workspaceEffect) throw new Error(`the consumer's effect must differ from the workspace's`)
      writeFileSync(
        join(app, "package.json"),
        `${JSON.stringify({ name: "patchbay-consumer", private: true, version: "0.0.0" }, null, 2)}\n`
      )
      run(
        "npm install",
        "npm",
        [
          "install",
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
          ...readdirSync(tarballs).map((file) => join(tarballs, file)),
          ...[...peers].map(([name, range]) => `${name}@${range}`),
          "typescript@5.9.3",
          "@types/node@^20.19.0"
        ],
        app
      )
      return [...peers.keys()].join(", ")
    })

    step("one copy of effect", () => {
      const listed = JSON.parse(run("npm ls", "npm", ["ls", "effect", "--all", "--json"], app))
      const versions = new Set()
      const walk = (node) => {
        for (const [name, child] of Object.entries(node.dependencies ?? {})) {
          if (name === "effect") versions.add(child.version)
          walk(child)
        }
      }
      walk(listed)
      const nested = []
      const findNested = (dir, depth) => {
        if (depth > 6 || !existsSync(dir)) return
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (!entry.isDirectory()) continue
          const path = join(dir, entry.name)
          if (entry.name === "node_modules" && depth > 0 && existsSync(join(path, "effect"))) nested.push(path)
          findNested(path, depth + 1)
        }
      }
      findNested(join(app, "node_modules"), 0)
      const installed = readJson(join(app, "node_modules/effect/package.json")).version
      if (versions.size !== 1 || nested.length > 0 || installed !== consumerEffect) {
        throw new Error(
          `effect versions ${[...versions].join(", ")}; nested copies: ${nested.join(", ") || "none"}; top level ${installed}`
        )
      }
      return `effect ${installed}`
    })

    step("type-check under NodeNext and Bundler (skipLibCheck: false)", () => {
      writeFileSync(join(app, "host.mts"), hostApp(publishable))
      writeFileSync(join(app, "host.cts"), hostApp(publishable))
      writeFileSync(
        join(app, "tsconfig.nodenext.json"),
        tsconfig({ module: "NodeNext", moduleResolution: "NodeNext", outDir: "dist" }, ["host.mts", "host.cts"])
      )
      writeFileSync(
        join(app, "tsconfig.bundler.json"),
        tsconfig({ module: "ESNext", moduleResolution: "Bundler", noEmit: true }, ["host.mts"])
      )
      const tsc = join(app, "node_modules/typescript/bin/tsc")
      run("tsc (NodeNext)", process.execPath, [tsc, "-p", "tsconfig.nodenext.json"], app)
      run("tsc (Bundler)", process.execPath, [tsc, "-p", "tsconfig.bundler.json"], app)
    })

    step("run as ESM", () => run("node dist/host.mjs", process.execPath, ["dist/host.mjs", "ESM"], app).trim())
    step("run as CommonJS", () => run("node dist/host.cjs", process.execPath, ["dist/host.cjs", "CJS"], app).trim())
  } finally {
    if (process.env.PATCHBAY_CONSUMER_KEEP) console.log(`consumer-check: the project is kept in ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

try {
  main()
  console.log("consumer-check: passed")
} catch (error) {
  console.log(`consumer-check: FAILED (${error.message})`)
  process.exitCode = 1
}
