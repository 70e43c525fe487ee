/**
 * Runs every suite in ./suites (or those whose file name contains one of the arguments) and prints
 * one markdown table per suite, ready for docs/benchmarks.md.
 */
import { readdirSync } from "node:fs"
import { cpus } from "node:os"
import { fileURLToPath } from "node:url"
import { type Suite, table } from "./harness.js"

const dir = fileURLToPath(new URL("./suites/", import.meta.url))
const filters = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && (filters.length === 0 || filters.some((x) => f.includes(x))))
  .sort()

console.log(`# Patchbay benchmarks — ${new Date().toISOString()}`)
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}\n`)
let failed = 0
for (const file of files) {
  const suite: Suite = (await import(new URL(`./suites/${file}`, import.meta.url).href)).default
  const rows = await suite.run()
  failed += rows.filter((r) => !r.met).length
  console.log(`${table(suite.name, rows)}\n`)
}
console.log(failed === 0 ? "All targets met." : `${failed} target(s) not met.`)
