import { RefreshLock } from "@patchbay/core"
import { SqlStore } from "@patchbay/store-sql"
import { Layer } from "effect"
import { integrity } from "../../store-sql/test/integrity.js"
import { PgliteClient, PrebuiltDataDir } from "../src/index.js"

integrity({
  name: "PGlite",
  layer: SqlStore.layerFromSqlClient({}, RefreshLock.layerMemory).pipe(
    Layer.provideMerge(PgliteClient.layer({ initialDataDir: PrebuiltDataDir.load }))
  )
})
