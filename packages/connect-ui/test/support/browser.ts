/**
 * Debian's Chromium for the browser tests: found on PATH (`chromium`, `chromium-browser`) or at
 * /usr/bin/chromium. Outside CI a machine without it skips the tests with a message; in CI
 * (`CI` set) its absence fails them.
 */
import { accessSync, constants } from "node:fs"
import { delimiter, join } from "node:path"

const names = ["chromium", "chromium-browser"]

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The Chromium executable, if installed. */
export const chromiumPath: string | undefined = [
  ...(process.env.PATH ?? "").split(delimiter).flatMap((dir) => (dir === "" ? [] : names.map((n) => join(dir, n)))),
  "/usr/bin/chromium"
].find(executable)

/** Whether the browser tests run: Chromium found, or CI (where they must run, and fail without it). */
export const runBrowserTests = chromiumPath !== undefined || process.env.CI !== undefined

if (!runBrowserTests) {
  console.warn(
    "connect-ui: Chromium not found on PATH (apt-get install chromium); the browser tests are skipped. In CI they fail instead."
  )
}
