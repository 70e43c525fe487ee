import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(shared, {
  // One throwaway PostgreSQL server for the run; tests read its URL with inject("databaseUrl").
  test: { globalSetup: ["../testing/src/globalSetup.ts"] }
})
