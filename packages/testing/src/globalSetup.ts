/**
 * Vitest global setup: one throwaway PostgreSQL server per test run of a package. Tests read its
 * superuser URL with `inject("databaseUrl")` and its kind with `inject("databaseKind")`.
 */
import type {} from "vitest"
import type { TestProject } from "vitest/node"
import { start } from "./PostgresServer.js"

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string
    databaseKind: "external" | "debian" | "pglite"
  }
}

export default async function setup(project: TestProject) {
  const server = await start()
  project.provide("databaseUrl", server.url)
  project.provide("databaseKind", server.kind)
  return () => server.dispose()
}
