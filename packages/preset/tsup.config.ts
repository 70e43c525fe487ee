import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/*.ts"],
  format: ["esm", "cjs"],
  // Declarations come from tsc (`tsc -p tsconfig.build.json`): one .d.ts per module, as written.
  dts: false,
  clean: true,
  sourcemap: true,
  tsconfig: "tsconfig.build.json"
})
