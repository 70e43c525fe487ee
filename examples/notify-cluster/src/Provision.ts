/**
 * The demo's instances and credentials: one SMS instance on a Twilio-style HTTP API and one SMTP
 * instance, each with an organization-level credential, stored once in the shared database for
 * every runner to use.
 */
import { Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import * as Effect from "effect/Effect"

/** Where the peers are and how to sign in to them. */
export interface Options {
  readonly orgId: string
  /** Makes the instance names unique, so the demo can run again on the same database. */
  readonly runId: string
  /** Base URL of the SMS API (`/2010-04-01/Accounts/{account}/Messages.json` under it). */
  readonly smsBaseUrl: string
  readonly smsAccount: string
  readonly smtpHost: string
  readonly smtpPort: number
  readonly smtpUser: string
  readonly smtpPassword: string
  /** Bound on connecting to and waiting for the SMTP server (milliseconds). */
  readonly smtpTimeoutMillis: number
}

/** The ids a Notify run needs. */
export interface Instances {
  readonly smsInstanceId: string
  readonly emailInstanceId: string
}

/** Creates both instances and stores their credentials, as the organization's actor. */
export const provision = Effect.fn("Provision.provision")(
  function* (options: Options) {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const scope = { type: "organization" as const, id: options.orgId }
    const sms = yield* instances.create({
      connector: "twilio-sms",
      instanceName: `on-call sms ${options.runId}`,
      configuration: { base_url: options.smsBaseUrl, sms_from: "+15550000000" }
    })
    yield* vault.create({
      instanceId: sms.id,
      scope,
      credentials: { username: options.smsAccount, password: "sms-token" }
    })
    const email = yield* instances.create({
      connector: "smtp",
      instanceName: `team mail ${options.runId}`,
      configuration: {
        host: options.smtpHost,
        port: options.smtpPort,
        security: "none",
        from: "patchbay@example.com",
        timeout_ms: options.smtpTimeoutMillis
      }
    })
    yield* vault.create({
      instanceId: email.id,
      scope,
      credentials: { username: options.smtpUser, password: options.smtpPassword }
    })
    return { smsInstanceId: sms.id, emailInstanceId: email.id } satisfies Instances
  },
  (effect, options) => Effect.provide(effect, Actor.layer({ orgId: options.orgId }))
)
