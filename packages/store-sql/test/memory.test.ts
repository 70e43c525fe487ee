import {
  AuditLog,
  CredentialRepository,
  HealthHistory,
  InstanceRepository,
  MonitorClaims,
  PendingAuthorizationRepository,
  ReconnectWaits,
  RefreshLock,
  Transactions,
  WebhookStore
} from "@patchbay/core"
import { Effect, Layer } from "effect"
import { contract } from "./contract.js"

contract({
  name: "memory (core layerMemory)",
  layer: Layer.mergeAll(
    WebhookStore.layerMemory.pipe(Layer.provideMerge(InstanceRepository.layerMemory)),
    CredentialRepository.layerMemory,
    AuditLog.layerMemory,
    PendingAuthorizationRepository.layerMemory,
    RefreshLock.layerMemory,
    Transactions.layerMemory,
    HealthHistory.layerMemory,
    MonitorClaims.layerMemory,
    ReconnectWaits.layerMemory
  ),
  otherLock: RefreshLock.RefreshLock.pipe(Effect.map((lock) => lock)),
  sql: false
})
