// Writes a CommonJS twin (`X.d.cts`) of every declaration file tsc emitted into dist/ (`X.d.ts`),
// with relative imports pointing at the twins, so `require` consumers under NodeNext get
// declarations that describe the `.cjs` build.
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]
  )

for (const file of walk("dist").filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8")
    .replace(/(from\s+|import\s*\(\s*)(["'])(\.{1,2}\/[^"']+)\.js\2/g, "$1$2$3.cjs$2")
    .replace(/\/\/# sourceMappingURL=.*$/m, "")
  writeFileSync(`${file.slice(0, -".d.ts".length)}.d.cts`, text)
}
