import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/*.ts"],
  format: ["esm", "cjs"],
  // Shared code goes into chunks in both formats, so that a deep import (`@patchbay/x/Module`) and
  // the index load one copy of each module, as `require` does for `import`.
  splitting: true,
  // `import.meta.url` in the CommonJS build (and `__dirname` in the ESM one) are shimmed.
  shims: true,
  // Declarations come from tsc (`tsc -p tsconfig.build.json`): one .d.ts per module, as written.
  dts: false,
  clean: true,
  sourcemap: true,
  tsconfig: "tsconfig.build.json"
})
