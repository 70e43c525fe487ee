import { describe, it } from "@effect/vitest"
import { boundedHistory, expiryOnce, healthHistory, refreshFailed, refreshTransient } from "./support/cases.js"
import { memoryStore } from "./support/stack.js"

describe("monitors on the memory store", () => {
  it.scoped("health: latency history; a failing server flips health and emits health_changed", () =>
    healthHistory(memoryStore)
  )
  it.scoped("health: the history keeps the newest checks of each instance", () => boundedHistory(memoryStore))
  it.scoped("expiry: credential and refresh-token deadline warnings once per version and threshold", () =>
    expiryOnce(memoryStore)
  )
  it.scoped("sweep: a refused refresh emits refresh_failed without a secret", () => refreshFailed(memoryStore))
  it.scoped("sweep: a token endpoint that is down emits refresh_failed and keeps the version", () =>
    refreshTransient(memoryStore)
  )
})
