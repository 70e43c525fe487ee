/**
 * Requests and results of the messaging and file capabilities: Send Email, Send SMS, Fetch File.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const Address = Schema.String.pipe(
  Schema.pattern(/^[^\s@<>]+@[^\s@<>]+$/, { message: () => "must be an email address like name@example.com" })
)

/**
 * An attachment's content, base64 in encoded form.
 *
 * @since 0.1.0
 */
export class Attachment extends Schema.Class<Attachment>("@patchbay/core/Attachment")({
  filename: Schema.String.pipe(Schema.minLength(1)),
  contentType: Schema.optional(Schema.String),
  content: Schema.Uint8ArrayFromBase64
}) {}

/**
 * An email. At least one recipient and one of `text` or `html`.
 *
 * @since 0.1.0
 */
export class EmailMessage extends Schema.Class<EmailMessage>("@patchbay/core/EmailMessage")(
  Schema.Struct({
    from: Schema.optional(Address),
    to: Schema.Array(Address),
    cc: Schema.optionalWith(Schema.Array(Address), { default: () => [] }),
    bcc: Schema.optionalWith(Schema.Array(Address), { default: () => [] }),
    subject: Schema.String,
    text: Schema.optional(Schema.String),
    html: Schema.optional(Schema.String),
    attachments: Schema.optionalWith(Schema.Array(Attachment), { default: () => [] })
  }).pipe(
    Schema.filter((m) => m.to.length + m.cc.length + m.bcc.length > 0 || "an email needs at least one recipient"),
    Schema.filter((m) => m.text !== undefined || m.html !== undefined || "an email needs text or html")
  )
) {}

/**
 * What the mail server said about an accepted message.
 *
 * @since 0.1.0
 */
export class EmailReceipt extends Schema.Class<EmailReceipt>("@patchbay/core/EmailReceipt")({
  messageId: Schema.String,
  accepted: Schema.Array(Schema.String),
  rejected: Schema.Array(Schema.String)
}) {}

/**
 * A text message to one phone number (E.164).
 *
 * @since 0.1.0
 */
export class SmsMessage extends Schema.Class<SmsMessage>("@patchbay/core/SmsMessage")({
  to: Schema.String.pipe(
    Schema.pattern(/^\+[1-9]\d{6,14}$/, { message: () => "must be an E.164 number like +15551234567" })
  ),
  from: Schema.optional(Schema.String),
  body: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1600))
}) {}

/**
 * The provider's id and status of an accepted message.
 *
 * @since 0.1.0
 */
export class SmsReceipt extends Schema.Class<SmsReceipt>("@patchbay/core/SmsReceipt")({
  id: Schema.String,
  status: Schema.String
}) {}

/**
 * A file to fetch with GET through an HTTP instance, relative to its base URL, with a size limit.
 *
 * @since 0.1.0
 */
export class FetchFileRequest extends Schema.Class<FetchFileRequest>("@patchbay/core/FetchFileRequest")({
  path: Schema.String.pipe(Schema.startsWith("/")),
  maxBytes: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1024 ** 3)), { default: () => 25 * 1024 ** 2 }),
  timeoutMillis: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3_600_000)), { default: () => 60_000 })
}) {}

/**
 * What was fetched: its type, its size, and where the sink put it.
 *
 * @since 0.1.0
 */
export class FetchedFile extends Schema.Class<FetchedFile>("@patchbay/core/FetchedFile")({
  contentType: Schema.NullOr(Schema.String),
  bytes: Schema.Int
}) {}
