/**
 * What a command prints: a JSON document with `--json` (one line, for scripts), else lines for
 * people.
 */
import * as Console from "effect/Console"
import type * as Effect from "effect/Effect"

/** Prints `value` as JSON, or the text `lines` give for it. */
export const print = <A>(json: boolean, value: A, lines: (value: A) => ReadonlyArray<string>): Effect.Effect<void> =>
  json ? Console.log(JSON.stringify(value)) : Console.log(lines(value).join("\n"))

/** A table of rows under a header, columns padded to their widest cell. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd()
  return [line(header), ...rows.map(line)]
}
