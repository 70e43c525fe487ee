/**
 * Patchbay's services for the runners and the demo's set-up: every repository on the SQL store
 * (`SqlStore.layerPg`), keys from configuration, the Twilio-style SMS and SMTP connectors, and the
 * activities. Every process that composes it sees the same instances and credentials, which is
 * what lets any runner execute any workflow.
 */
import type { Activities } from "@patchbay/activities"
import { Activities as ActivitiesService } from "@patchbay/activities"
import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import { SmtpConnector } from "@patchbay/connector-smtp"
import { ConnectorInstances, ConnectorRegistry, EgressPolicy } from "@patchbay/core"
import { CredentialRefresher, Credentials, type CredentialVault } from "@patchbay/credentials"
import { SqlStore } from "@patchbay/store-sql"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"

/** Options of `layer`. */
export interface Options {
  /** The PostgreSQL URL of the shared database. */
  readonly url: Redacted.Redacted
  /** Apply pending migrations (the demo's set-up does; runners only check). */
  readonly migrate: boolean
  /** Let connectors reach 127.0.0.1 (the demo's and the test's peers are local). */
  readonly allowLoopback: boolean
}

/**
 * The activities, the instance lifecycle and the credential vault on the shared PostgreSQL, with
 * the keyring and fingerprint key read from `PATCHBAY_KEYRING`, `PATCHBAY_PRIMARY_KEY_ID` and
 * `PATCHBAY_FINGERPRINT_KEY`.
 */
export const layer = (options: Options) => {
  const egress = EgressPolicy.layer({ allowLoopback: options.allowLoopback })
  const registry = ConnectorRegistry.layer([
    SmtpConnector.connector,
    HttpConnector.connector(HttpApiDescriptor.twilioSms)
  ]).pipe(Layer.provide(egress))
  const store = SqlStore.layerPg({ url: options.url, migrate: options.migrate, maxConnections: 4 })
  const base = Layer.mergeAll(store, registry)
  const instances = ConnectorInstances.layer.pipe(Layer.provideMerge(base))
  const credentials = Credentials.layer.pipe(
    Layer.provide(CredentialRefresher.layerNone),
    Layer.provide(Credentials.layerCryptoConfig),
    Layer.provideMerge(instances)
  )
  return ActivitiesService.layer.pipe(Layer.provideMerge(credentials))
}

/** What `layer` provides that the demo uses. */
export type Services = Activities.Activities | ConnectorInstances.ConnectorInstances | CredentialVault.CredentialVault
