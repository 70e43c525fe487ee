/**
 * Bad input on the embedded PGlite store: every public API, 60 poisoned inputs per property.
 *
 * The suite lives in `@patchbay/preset`'s tests; it runs here because this package already
 * depends on the preset and on `@patchbay/store-pglite`.
 */
import { PgliteStore } from "@patchbay/store-pglite"
import { badInputSuite } from "./property.cases.js"

badInputSuite("PGlite", PgliteStore.layer(), 60)
