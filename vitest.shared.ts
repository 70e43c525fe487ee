import { defineConfig } from "vitest/config"

/**
 * The one vitest configuration every package merges. Workspace packages resolve to their sources
 * through the `@patchbay/source` export condition. Vitest also hands the SSR conditions to Node as
 * `--conditions`: were `import` among them, pg's CommonJS `require("pg-pool")` would load pg-pool's
 * ESM build and fail, so only the source condition and `node` are listed (Node adds its own
 * import/require conditions).
 */
export default defineConfig({
  resolve: { conditions: ["@patchbay/source", "node", "import", "module", "default"] },
  ssr: { resolve: { conditions: ["@patchbay/source", "node"], externalConditions: ["node"] } },
  test: {
    include: ["test/**/*.test.ts"],
    passWithNoTests: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false }
  }
})
