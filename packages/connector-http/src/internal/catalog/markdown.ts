/** docs/catalog.md, rendered from the catalog's entries. */
import type { Entry } from "../../Catalog.js"

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ")

/** The catalog page: counts per category, then one row per entry. */
export const render = (entries: ReadonlyArray<Entry>): string => {
  const counts = new Map<string, number>()
  for (const entry of entries) counts.set(entry.category, (counts.get(entry.category) ?? 0) + 1)
  const lines = [
    "# Provider catalog",
    "",
    "<!-- Generated from packages/connector-http/src/internal/catalog by",
    "     `pnpm --filter @patchbay/connector-http catalog:doc`. Do not edit by hand. -->",
    "",
    "The predefined apps of `@patchbay/connector-http`'s `Catalog`. Each entry records what was checked",
    "against the provider's documentation and when; facts marked NOT checked come from the documentation",
    "as recalled and must be verified before they are relied on.",
    "",
    `${entries.length} entries.`,
    "",
    "| Category | Entries |",
    "| --- | ---: |",
    ...[...counts].map(([category, count]) => `| ${category} | ${count} |`),
    "",
    "| Name | Key | Category | Auth modes | Checked | On |",
    "| --- | --- | --- | --- | --- | --- |",
    ...entries.map(
      (entry) =>
        `| ${cell(entry.name)} | \`${entry.key}\` | ${entry.category} | ${entry.auth.join(", ")} | ${cell(
          entry.checked.what
        )} ([source](${entry.checked.source})) | ${entry.checked.on} |`
    ),
    ""
  ]
  return lines.join("\n")
}
