import { defineConfig } from "tsup"

/** The one build configuration of every publishable package (each package's tsup.config.ts re-exports it). */
export default defineConfig({
  entry: ["src/*.ts"],
  format: ["esm", "cjs"],
  // No code splitting for CommonJS: tsup would rewrite the chunks with sucrase, whose `??` helper
  // breaks `yield*` inside generators. Each CommonJS entry is therefore self-contained; hosts
  // import the index (`@patchbay/x`), which every Patchbay package does too.
  // `import.meta.url` is shimmed in the CommonJS build (store-pglite's prebuilt data directory).
  shims: true,
  // Declarations come from tsc (`tsc -p tsconfig.build.json`): one .d.ts per module, as written.
  dts: false,
  clean: true,
  sourcemap: true,
  tsconfig: "tsconfig.build.json"
})
