/**
 * Scope isolation on the memory store: 150 hostile actors per property.
 */
import * as Patchbay from "../src/Patchbay.js"
import { isolationSuite } from "./isolation.cases.js"

isolationSuite("memory", Patchbay.layerMemory, 150)
