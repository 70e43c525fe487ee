/** HTML built from templates whose interpolations are escaped unless they are already `Html`. */

/** Markup that is trusted: built by `html` or escaped on the way in. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

/** Text as HTML: safe in element content and in quoted attribute values. */
export const escapeText = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c]!)

/** What a template may interpolate. */
export type Interpolation = Html | string | number | boolean | null | undefined | ReadonlyArray<Interpolation>

const render = (value: Interpolation): string => {
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(render).join("")
  if (value === null || value === undefined || value === false || value === true) return ""
  return escapeText(String(value))
}

/** A template of trusted markup: every interpolated string is escaped. */
export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Interpolation>): Html => {
  let out = strings[0]!
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!
  })
  return new Html(out)
}
