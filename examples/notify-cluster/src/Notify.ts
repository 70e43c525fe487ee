/**
 * The Notify workflow: text the on-call phone through an HTTP SMS instance (retrying transient
 * failures on the durable clock), then email the team through an SMTP instance. Each step is a
 * Patchbay activity whose result is journaled by the workflow engine, so a runner that takes over
 * an interrupted run replays finished steps from the journal instead of doing them again.
 */
import * as Workflow from "@effect/workflow/Workflow"
import { ActivityError, Actor } from "@patchbay/core"
import { PatchbayActivity } from "@patchbay/workflow"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** The workflow's declaration: payload, result, typed failure and idempotency key. */
export const Notify = Workflow.make({
  name: "Notify",
  payload: {
    orgId: Schema.String,
    smsInstanceId: Schema.String,
    emailInstanceId: Schema.String,
    phone: Schema.String,
    team: Schema.Array(Schema.String),
    message: Schema.String
  },
  success: Schema.Struct({ smsId: Schema.String, messageId: Schema.String }),
  error: ActivityError.ActivityError,
  idempotencyKey: (payload) => `${payload.orgId}:${payload.phone}:${payload.message}`
})

/** The workflow's payload. */
export type Payload = typeof Notify.payloadSchema.Type

/** The workflow's result. */
export type Result = typeof Notify.successSchema.Type

/**
 * The workflow's implementation. Its activities run as the organization named in the payload: the
 * actor is provided per run, not per process.
 */
export const layer = Notify.toLayer(
  Effect.fn("Notify.run")(
    function* (payload) {
      const sms = yield* PatchbayActivity.retryTransient(
        PatchbayActivity.sendSms("text on-call", {
          instanceId: payload.smsInstanceId,
          to: payload.phone,
          body: payload.message
        }),
        { base: "200 millis", times: 3 }
      )
      const mail = yield* PatchbayActivity.sendEmail("email team", {
        instanceId: payload.emailInstanceId,
        to: payload.team,
        subject: "On-call notified",
        text: payload.message
      })
      return { smsId: sms.id, messageId: mail.messageId }
    },
    (effect, payload) => Effect.provide(effect, Actor.layer({ orgId: payload.orgId }))
  )
)
