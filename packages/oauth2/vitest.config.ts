import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

const config = mergeConfig(shared, {
  test: {
    // One throwaway PostgreSQL server for the run (the multi-process refresh test); tests read its
    // URL with inject("databaseUrl").
    globalSetup: ["../testing/src/globalSetup.ts"]
  }
})

// As in store-sql: only the workspace's source condition is handed to node, so that pg's CommonJS
// require("pg-pool") does not get pg-pool's ESM build.
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ["@patchbay/source", "node"] } }

export default config
