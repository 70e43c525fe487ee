// Type-checks every ```ts / ```typescript block of README.md, packages/*/README.md and docs/*.md
// against the workspace sources (the `@patchbay/source` condition), each block as a module of its
// own. Errors are reported at the Markdown file and line; exits non-zero when a snippet does not
// compile.
//
// A snippet that is a fragment (a few lines of an `Effect.gen` body, say) gets its context from an
// HTML comment right above the fence, which Markdown does not render:
//
//   <!-- ts-context
//   import { Effect } from "effect"
//   declare const instanceId: string
//   Effect.gen(function* () {
//   ...
//   })
//   -->
//
// The snippet takes the place of the line `...` (or follows the context when there is none); its
// leading imports go first. A block that cannot be checked at all is marked ```ts no-check; keep
// those rare.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join, relative } from "node:path"

const root = join(import.meta.dirname, "..")
const project = join(import.meta.dirname, "snippets")
const out = join(project, ".tmp")

const markdown = [
  "README.md",
  ...readdirSync(join(root, "packages"))
    .map((dir) => join("packages", dir, "README.md"))
    .filter((file) => existsSync(join(root, file))),
  ...readdirSync(join(root, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => join("docs", file))
]

/** The `<!-- ts-context ... -->` comment ending on the line before `index`, if any. */
const contextAbove = (lines, index) => {
  if (index === 0 || lines[index - 1].trim() !== "-->") return undefined
  for (let i = index - 2; i >= 0; i--) {
    if (lines[i].trim() === "<!-- ts-context") return { start: i + 2, lines: lines.slice(i + 1, index - 1) }
    if (lines[i].includes("-->")) return undefined
  }
  return undefined
}

/** The checked blocks of one Markdown file, each with the line its code starts on. */
const blocks = (file) => {
  const lines = readFileSync(join(root, file), "utf8").split("\n")
  const found = []
  let open
  lines.forEach((line, index) => {
    const fence = /^(\s*)(```+|~~~+)\s*([\w-]*)(.*)$/.exec(line)
    if (open === undefined) {
      if (fence) {
        open = {
          fence: fence[2],
          indent: fence[1].length,
          lang: fence[3],
          info: fence[4],
          start: index + 2,
          code: [],
          context: contextAbove(lines, index)
        }
      }
      return
    }
    if (fence?.[2].startsWith(open.fence) && fence[3] === "" && fence[4].trim() === "") {
      if (open.lang === "ts" || open.lang === "typescript") {
        if (/\bno-check\b/.test(open.info)) skipped++
        else found.push(open)
      }
      open = undefined
      return
    }
    open.code.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)))
  })
  return found
}

let skipped = 0
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const sources = new Map()
for (const file of markdown) {
  for (const block of blocks(file)) {
    const name = `${file.replace(/[/.]/g, "_")}_L${block.start}.ts`
    const code = block.code.map((text, i) => ({ text, line: block.start + i }))
    const context = (block.context?.lines ?? []).map((text, i) => ({ text, line: block.context.start + i }))
    // The snippet's leading imports go above the context (imports are top-level only).
    let imports = 0
    while (imports < code.length && /^\s*(import\b|$)/.test(code[imports].text)) {
      if (/^\s*import\b/.test(code[imports].text) && !/\bfrom\s*["']|^\s*import\s*["']/.test(code[imports].text)) {
        while (imports < code.length && !/\bfrom\s*["']/.test(code[imports].text)) imports++
      }
      imports++
    }
    const hole = context.findIndex(({ text }) => text.trim() === "...")
    const generated = [
      ...code.slice(0, imports),
      ...(hole === -1 ? context : context.slice(0, hole)),
      ...code.slice(imports),
      ...(hole === -1 ? [] : context.slice(hole + 1)),
      // `export {}` keeps a snippet without imports a module, so snippets never share a scope.
      { text: "export {}", line: block.start }
    ]
    writeFileSync(join(out, name), `${generated.map(({ text }) => text).join("\n")}\n`)
    const lineOf = (line) => generated[line - 1]?.line ?? block.start
    sources.set(name, { file, lineOf })
  }
}

const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc")
let output = ""
let failed = false
try {
  execFileSync(process.execPath, [tsc, "-p", join(project, "tsconfig.json"), "--pretty", "false"], {
    cwd: project,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"]
  })
} catch (error) {
  failed = true
  output = `${error.stdout ?? ""}${error.stderr ?? ""}`
}

// `.tmp/docs_x_md_L12.ts(3,5): error TS2304: ...` becomes `docs/x.md:14:5: error TS2304: ...`.
const located = output.replace(/^(?:\.tmp\/)?([\w.-]+\.ts)\((\d+),(\d+)\)/gm, (whole, name, line, column) => {
  const source = sources.get(name)
  return source ? `${source.file}:${source.lineOf(Number(line))}:${column}` : whole
})
const summary = `${sources.size} snippets from ${markdown.length} Markdown files${skipped > 0 ? `, ${skipped} marked no-check` : ""}`
if (failed) {
  console.error(located.trim())
  const files = new Set([...located.matchAll(/^([\w/.-]+\.md):\d+/gm)].map((m) => m[1]))
  console.error(`check-snippets: FAILED — ${summary}; errors in ${[...files].join(", ") || relative(root, project)}`)
  process.exit(1)
}
console.log(`check-snippets: ${summary} type-check`)
