import * as Redacted from "effect/Redacted"

/** A string field of a token set, if it is one. */
export const field = (secrets: Redacted.Redacted<Readonly<Record<string, unknown>>>, name: string) => {
  const value = Redacted.value(secrets)[name]
  return typeof value === "string" && value !== "" ? value : undefined
}
