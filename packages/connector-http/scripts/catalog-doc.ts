/** Writes docs/catalog.md from the catalog's data. */
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { entries } from "../src/Catalog.js"
import { render } from "../src/internal/catalog/markdown.js"

const target = fileURLToPath(new URL("../../../docs/catalog.md", import.meta.url))
writeFileSync(target, render(entries))
console.log(`wrote ${target} (${entries.length} entries)`)
