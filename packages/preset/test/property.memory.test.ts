/**
 * Bad input on the memory store: every public API, 200 poisoned inputs per property.
 */
import * as Patchbay from "../src/Patchbay.js"
import { badInputSuite } from "./property.cases.js"

badInputSuite("memory", Patchbay.layerMemory, 200)
