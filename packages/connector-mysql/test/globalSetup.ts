/**
 * Vitest global setup: one throwaway MariaDB server per test run. Tests read its superuser URL with
 * `inject("mariadbUrl")`; it is empty when Debian's binaries are missing outside CI (the tests
 * then skip, loudly). Under CI a missing server fails the run.
 */
import { MariaDbServer } from "@patchbay/testing"
import type {} from "vitest"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    mariadbUrl: string
  }
}

export default async function setup(project: TestProject) {
  if (!MariaDbServer.available() && process.env.CI === undefined) {
    console.warn("\n*** MariaDB binaries (/usr/sbin/mariadbd) are missing: connector-mysql tests are SKIPPED ***\n")
    project.provide("mariadbUrl", "")
    return
  }
  const server = await MariaDbServer.start()
  project.provide("mariadbUrl", server.url)
  return () => server.dispose()
}
