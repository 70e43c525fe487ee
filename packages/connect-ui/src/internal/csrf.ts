/**
 * Cross-site request forgery protection for the UI's forms: a double-submitted token and an origin
 * check. Every page carries the token of a `SameSite=Lax`, `HttpOnly` cookie in a hidden field; a
 * POST is accepted only when the field equals the cookie (another site can neither read the cookie
 * nor make the browser send it with a cross-site POST) and, when the browser says where the request
 * comes from (`Origin`, `Sec-Fetch-Site`), only from this origin.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"

/** The cookie and the form field holding the token. */
export const cookieName = "patchbay_csrf"
export const fieldName = "_csrf"

const tokenPattern = /^[A-Za-z0-9_-]{43}$/

/** 32 random bytes, base64url. */
export const mint = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

/** The request's token, if its cookie holds a well-formed one. */
export const fromCookie = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const token = request.cookies[cookieName]
  return token !== undefined && tokenPattern.test(token) ? token : undefined
}

/** Compares without stopping at the first difference. */
const sameToken = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}

/**
 * Whether a form POST may proceed: the submitted token equals the cookie's, and the browser's
 * `Origin` (when sent) is `origin` and its `Sec-Fetch-Site` (when sent) is `same-origin`.
 */
export const verify = (
  request: HttpServerRequest.HttpServerRequest,
  submitted: string | undefined,
  origin: string
): boolean => {
  const cookie = fromCookie(request)
  if (cookie === undefined || submitted === undefined || !sameToken(cookie, submitted)) return false
  const sentOrigin = request.headers.origin
  if (sentOrigin !== undefined && sentOrigin !== origin) return false
  const site = request.headers["sec-fetch-site"]
  return site === undefined || site === "same-origin"
}
