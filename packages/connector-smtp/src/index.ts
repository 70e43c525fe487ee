/**
 * @patchbay/connector-smtp: the SMTP connector (test, health check, Send Email) on nodemailer.
 *
 * @since 0.1.0
 */
export * as SmtpConnector from "./SmtpConnector.js"
