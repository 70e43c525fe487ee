/**
 * Bad input on the PostgreSQL store (the run's throwaway server): every public API, 60 poisoned
 * inputs per property. PostgreSQL refuses NUL in text and lone surrogates in jsonb, so a bound
 * missing while decoding shows here as a retryable `StorageError`.
 *
 * The suite lives in `@patchbay/preset`'s tests; it runs here because this package already
 * depends on the preset and on `@patchbay/store-sql`.
 */
import { SqlStore } from "@patchbay/store-sql"
import type {} from "@patchbay/testing/globalSetup"
import { Redacted } from "effect"
import { inject } from "vitest"
import { badInputSuite } from "./property.cases.js"

badInputSuite("PostgreSQL", SqlStore.layerPg({ url: Redacted.make(inject("databaseUrl")) }), 60)
