import { defineConfig } from "vitest/config"

const conditions = ["@patchbay/source", "node", "import", "module", "default"]

/** The one vitest configuration every package merges: sources resolve through the `@patchbay/source` export condition. */
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["node"] } },
  test: {
    include: ["test/**/*.test.ts"],
    passWithNoTests: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fakeTimers: { toFake: undefined },
    sequence: { concurrent: false }
  }
})
