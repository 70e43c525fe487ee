/** `SqlWebhookStore` on PGlite: the `WebhookStore` contract of packages/webhooks. */
import { describe } from "@effect/vitest"
import { storeCases } from "../../webhooks/test/support/storeCases.js"
import { PgliteStore } from "../src/index.js"

describe("WebhookStore on PGlite", () => storeCases(PgliteStore.layer()))
