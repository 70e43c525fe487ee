import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

const config = mergeConfig(shared, {})

// Vitest hands `ssr.resolve.conditions` to node as `--conditions`; with `import` among them, pg's
// CommonJS `require("pg-pool")` (loaded through @effect/sql-pg's compiler) gets pg-pool's ESM build
// and fails. Only the workspace's source condition is passed on (mergeConfig would concatenate
// the lists, so it is replaced here).
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ["@patchbay/source", "node"] } }

export default config
