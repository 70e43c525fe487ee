/**
 * Scope isolation on the embedded PGlite store: 40 hostile actors per property. The suite lives in
 * `@patchbay/preset`'s tests; it runs here because this package already depends on the preset and
 * on `@patchbay/store-pglite`.
 */
import { PgliteStore } from "@patchbay/store-pglite"
import { isolationSuite } from "./isolation.cases.js"

isolationSuite("PGlite", PgliteStore.layer(), 40)
