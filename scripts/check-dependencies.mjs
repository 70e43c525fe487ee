// Compares every workspace package's imports with its package.json, as depcheck would:
// - a package that src/ imports is a dependency or a peerDependency (a host installs it);
// - a package that test/ imports is declared too (devDependencies, or the root's for the tools);
// - every dependency and peerDependency is imported by src/ (or is the peer of another dependency),
//   every devDependency by src/ or test/
//   (or mirrors a peerDependency, or is the @types package of one that is used).
// A package named only in a string (a module loaded by computed name) counts as imported.
// Exits non-zero and names each mismatch.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { dirname, join } from "node:path"

const root = join(import.meta.dirname, "..")
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"))
const rootManifest = readJson(join(root, "package.json"))
const rootTools = new Set(Object.keys(rootManifest.devDependencies ?? {}))

const sourceFiles = (dir) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(path)
        return /\.(c|m)?tsx?$/.test(entry.name) ? [path] : []
      })
    : []

const specifier =
  /(?:(?<![\w"'`.])from\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*|\bdeclare\s+module\s+)["']([^"'.\s][^"'\s]*)["']/g
const packageOf = (spec) => {
  const parts = spec.split("/")
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]
}
const builtins = new Set(builtinModules)
const isBuiltin = (name) => name.startsWith("node:") || builtins.has(name)

/** The workspace package whose directory holds `path`, if any. */
const workspacePackageAt = (path) => {
  const match = /\/(packages|examples)\/([^/]+)\//.exec(path)
  const manifest = match && join(root, match[1], match[2], "package.json")
  return manifest && existsSync(manifest) ? readJson(manifest).name : undefined
}

/**
 * The packages the files import, and every quoted string in them (for computed imports; a relative
 * path into another workspace package, as in a vitest `globalSetup`, names that package).
 */
const scan = (files) => {
  const imported = new Set()
  const strings = new Set()
  for (const file of files) {
    const text = readFileSync(file, "utf8")
    for (const match of text.matchAll(specifier)) {
      const name = packageOf(match[1])
      if (!isBuiltin(name)) imported.add(name)
    }
    for (const match of text.matchAll(/["']([@a-z0-9][\w./@-]*)["']/g)) strings.add(match[1])
    for (const match of text.matchAll(/["'](\.\.\/[^"']+)["']/g)) {
      const name = workspacePackageAt(join(dirname(file), match[1]))
      if (name !== undefined) strings.add(name)
    }
  }
  return { imported, strings }
}

const typesOf = (name) => (name.startsWith("@") ? `@types/${name.slice(1).replace("/", "__")}` : `@types/${name}`)

const problems = []
const dirs = ["packages", "examples"].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name))
)
for (const dir of [...dirs, join(root, "bench")]) {
  const manifestPath = join(dir, "package.json")
  if (!existsSync(manifestPath)) continue
  const manifest = readJson(manifestPath)
  const deps = new Set(Object.keys(manifest.dependencies ?? {}))
  const peers = new Set(Object.keys(manifest.peerDependencies ?? {}))
  const dev = new Set(Object.keys(manifest.devDependencies ?? {}))
  const src = scan(sourceFiles(join(dir, "src")))
  const test = scan([
    ...sourceFiles(join(dir, "test")),
    ...readdirSync(dir)
      .filter((f) => /\.config\.(c|m)?ts$/.test(f))
      .map((f) => join(dir, f))
  ])
  const say = (text) => problems.push(`${manifest.name}: ${text}`)
  const self = manifest.name

  for (const name of src.imported) {
    if (name === self || (manifest.private && rootTools.has(name))) continue
    if (!deps.has(name) && !peers.has(name)) say(`src imports ${name}, which is neither a dependency nor a peer`)
  }
  for (const name of test.imported) {
    if (name === self || deps.has(name) || peers.has(name) || dev.has(name) || rootTools.has(name)) continue
    say(`test imports ${name}, which is not declared`)
  }
  const usedBySrc = (name) => src.imported.has(name) || src.strings.has(name)
  const usedByTest = (name) => test.imported.has(name) || test.strings.has(name)
  const typesUsed = (name, used) =>
    name.startsWith("@types/") && [...deps, ...peers, ...dev].some((other) => typesOf(other) === name && used(other))
  // A dependency that only satisfies another dependency's peer (@effect/cli's @effect/printer).
  const peerOfDependency = (name) =>
    [...deps, ...peers].some((other) => {
      const manifest = join(dir, "node_modules", other, "package.json")
      return existsSync(manifest) && name in (readJson(manifest).peerDependencies ?? {})
    })
  for (const name of [...deps, ...peers]) {
    if (usedBySrc(name) || typesUsed(name, usedBySrc) || peerOfDependency(name)) continue
    say(`${deps.has(name) ? "dependency" : "peerDependency"} ${name} is not imported by src/`)
  }
  for (const name of dev) {
    if (peers.has(name) || usedBySrc(name) || usedByTest(name)) continue
    if (typesUsed(name, (other) => usedBySrc(other) || usedByTest(other))) continue
    say(`devDependency ${name} is imported by neither src/ nor test/`)
  }
}

if (problems.length > 0) {
  console.error(`check-dependencies: ${problems.length} mismatch(es)\n  ${problems.join("\n  ")}`)
  process.exit(1)
}
console.log("check-dependencies: every package's imports match its package.json")
