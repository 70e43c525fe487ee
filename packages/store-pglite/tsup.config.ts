import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/*.ts"],
  format: ["esm", "cjs"],
  // Declarations come from tsc (`tsc -p tsconfig.build.json`): one .d.ts per module, as written.
  dts: false,
  clean: true,
  sourcemap: true,
  // PrebuiltDataDir finds its asset from import.meta.url, which the CommonJS build must shim.
  shims: true,
  tsconfig: "tsconfig.build.json"
})
