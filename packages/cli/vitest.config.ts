import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(shared, {
  // One throwaway PostgreSQL server for the run; tests read its URL with inject("databaseUrl").
  // Each test runs the built executable several times: a process start is seconds on a loaded machine.
  test: { globalSetup: ["../testing/src/globalSetup.ts"], testTimeout: 600_000 }
})
