import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

const config = mergeConfig(shared, {
  test: { globalSetup: ["../testing/src/globalSetup.ts"] }
})

// Vitest passes `ssr.resolve.conditions` to node as `--conditions`; with `import` among them, pg's
// CommonJS `require("pg-pool")` loads pg-pool's ESM build and fails. Node resolves with its own
// import/require conditions, so only the workspace's source condition is passed on.
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ["@patchbay/source", "node"] } }

export default config
