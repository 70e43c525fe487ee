import * as ParseResult from "effect/ParseResult"

/**
 * @internal Every issue of a parse error as `path: message`, joined by `; `. With `redact`, messages
 * never quote the input (which may hold a secret): only paths and whether a value is missing.
 */
export const formatParseError = (error: ParseResult.ParseError, options?: { readonly redact?: boolean }): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      const message = options?.redact
        ? issue._tag === "Missing"
          ? "is missing"
          : "is invalid (value not shown)"
        : issue.message
      return issue.path.length === 0 ? message : `${issue.path.join(".")}: ${message}`
    })
    .join("; ")
