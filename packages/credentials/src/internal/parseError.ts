import * as ParseResult from "effect/ParseResult"

/**
 * @internal A parse error as `path: message` issues joined by `; `. Messages that could quote the
 * input are replaced when `redact` is set, so a secret never reaches an error.
 */
export const describe = (error: ParseResult.ParseError, redact = false): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map(({ _tag, path, message }) => {
      const text = redact ? (_tag === "Missing" ? "is missing" : "is invalid (value not shown)") : message
      return path.length === 0 ? text : `${path.join(".")}: ${text}`
    })
    .join("; ")
