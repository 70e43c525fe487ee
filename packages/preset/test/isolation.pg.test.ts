/**
 * Scope isolation on the PostgreSQL store (the run's throwaway server): 40 hostile actors per
 * property. The suite lives in `@patchbay/preset`'s tests; it runs here because this package
 * already depends on the preset and on `@patchbay/store-sql`.
 */
import { SqlStore } from "@patchbay/store-sql"
import type {} from "@patchbay/testing/globalSetup"
import { Redacted } from "effect"
import { inject } from "vitest"
import { isolationSuite } from "./isolation.cases.js"

isolationSuite("PostgreSQL", SqlStore.layerPg({ url: Redacted.make(inject("databaseUrl")) }), 40)
