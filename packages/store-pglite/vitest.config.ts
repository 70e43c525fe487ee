import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

const config = mergeConfig(shared, {
  test: {
    // One throwaway PostgreSQL server for the run; tests read its URL with inject("databaseUrl").
    globalSetup: ["../testing/src/globalSetup.ts"]
  }
})

// Vitest hands `ssr.resolve.conditions` to node as `--conditions`; with `import` among them, pg's
// CommonJS `require("pg-pool")` gets pg-pool's ESM build and fails. Only the workspace's source
// condition is passed on (mergeConfig would concatenate the lists, so it is replaced here).
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ["@patchbay/source", "node"] } }

export default config
