/**
 * The `Retry-After` header (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date in any of the three
 * formats a recipient must accept (IMF-fixdate, RFC 850, asctime), always GMT.
 */
import * as Option from "effect/Option"

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const imfFixdate = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const rfc850 =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const asctime = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

const utc = (
  year: number,
  month: string,
  day: string,
  hours: string,
  minutes: string,
  seconds: string
): Option.Option<number> => {
  const index = months.indexOf(month)
  const [d, h, m, s] = [day, hours, minutes, seconds].map((part) => Number(part.trim())) as [
    number,
    number,
    number,
    number
  ]
  if (index < 0 || d < 1 || d > 31 || h > 23 || m > 59 || s > 60) return Option.none()
  const time = Date.UTC(year, index, d, h, m, Math.min(s, 59))
  // 31 February and the like roll over into the next month: refused.
  return new Date(time).getUTCDate() === d ? Option.some(time) : Option.none()
}

/** The instant an HTTP-date names, in milliseconds; none when `value` is not one. */
export const parseHttpDate = (value: string, now: Date): Option.Option<number> => {
  const fixed = imfFixdate.exec(value)
  if (fixed !== null) return utc(Number(fixed[3]), fixed[2]!, fixed[1]!, fixed[4]!, fixed[5]!, fixed[6]!)
  const old = rfc850.exec(value)
  if (old !== null) {
    // A two-digit year more than 50 years ahead is in the previous century (RFC 9110 §5.6.7).
    let year = 2000 + Number(old[3])
    if (year > now.getUTCFullYear() + 50) year -= 100
    return utc(year, old[2]!, old[1]!, old[4]!, old[5]!, old[6]!)
  }
  const c = asctime.exec(value)
  if (c !== null) return utc(Number(c[6]), c[1]!, c[2]!, c[3]!, c[4]!, c[5]!)
  return Option.none()
}

/**
 * How long after `now` the receiver asked us to wait, in milliseconds; none when the header is
 * absent, malformed, negative or names a time already past.
 */
export const delay = (header: string | undefined, now: Date): Option.Option<number> => {
  if (header === undefined) return Option.none()
  const value = header.trim()
  if (/^\d{1,12}$/.test(value)) {
    const seconds = Number(value)
    return seconds > 0 ? Option.some(seconds * 1000) : Option.none()
  }
  return parseHttpDate(value, now).pipe(
    Option.map((at) => at - now.getTime()),
    Option.filter((millis) => millis > 0)
  )
}
