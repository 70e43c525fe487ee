/**
 * One SMTP session on nodemailer's SMTPConnection, as an interruptible Effect: interruption
 * closes the socket instead of leaving it to its timeouts.
 */
import * as Effect from "effect/Effect"
import type { SMTPConnectionAuth, SMTPConnectionOptions } from "nodemailer"
import SMTPConnection from "nodemailer/lib/smtp-connection"

/** Connects (greeting, EHLO, STARTTLS when configured), optionally logs in, then QUITs. Every later error event is absorbed. */
export const session = (
  options: SMTPConnectionOptions,
  auth: SMTPConnectionAuth | undefined
): Effect.Effect<{ readonly authenticated: boolean }, unknown> =>
  Effect.async<{ readonly authenticated: boolean }, unknown>((resume) => {
    const connection = new SMTPConnection(options)
    let done = false
    const finish = (effect: Effect.Effect<{ readonly authenticated: boolean }, unknown>) => {
      if (done) return
      done = true
      resume(effect)
    }
    connection.on("error", (error: unknown) => {
      finish(Effect.fail(error))
      connection.close()
    })
    connection.once("end", () => finish(Effect.fail({ code: "ECONNECTION", message: "connection closed" })))
    connection.connect((error) => {
      if (error) {
        finish(Effect.fail(error))
        connection.close()
        return
      }
      if (auth === undefined || !connection.allowsAuth) {
        finish(Effect.succeed({ authenticated: false }))
        connection.quit()
        return
      }
      connection.login(auth, (loginError) => {
        if (loginError) {
          finish(Effect.fail(loginError))
          connection.close()
          return
        }
        finish(Effect.succeed({ authenticated: true }))
        connection.quit()
      })
    })
    return Effect.sync(() => {
      done = true
      connection.close()
    })
  })
