/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that requires AUTH and keeps what it accepts: the
 * mail sink of tests and of the quickstart.
 */
import { SMTPServer } from "smtp-server"

/** One accepted message. */
export interface ReceivedMail {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly user: string | undefined
  readonly raw: string
}

/** A running mail server. `users` can be changed while it runs (a password rotated outside Patchbay). */
export interface MailServer {
  readonly port: number
  readonly received: Array<ReceivedMail>
  readonly users: Map<string, string>
  readonly close: () => Promise<void>
}

/** Options of `start`. */
export interface Options {
  /** Recipients answered with 550 (mailbox unavailable) at RCPT TO; every other one is accepted. */
  readonly rejectRecipients?: ReadonlyArray<string> | undefined
  /**
   * A key and certificate (PEM): the server then offers STARTTLS with them, or speaks TLS from
   * the first byte when `implicitTls` is set. Without them the server speaks plain text only.
   */
  readonly tls?: { readonly key: string; readonly cert: string; readonly implicitTls?: boolean } | undefined
}

/** Starts a server on a free port accepting AUTH PLAIN/LOGIN for `users` (name → password). */
export const start = (users: Readonly<Record<string, string>>, options: Options = {}): Promise<MailServer> =>
  new Promise((resolve) => {
    const rejected = new Set(options.rejectRecipients)
    const received: Array<ReceivedMail> = []
    const accounts = new Map(Object.entries(users))
    const server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      ...(options.tls === undefined
        ? { disabledCommands: ["STARTTLS"] }
        : { key: options.tls.key, cert: options.tls.cert, secure: options.tls.implicitTls ?? false }),
      disableReverseLookup: true,
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username !== undefined && accounts.get(auth.username) === auth.password) {
          callback(null, { user: auth.username })
        } else {
          callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }))
        }
      },
      onRcptTo(address, _session, callback) {
        if (rejected.has(address.address)) {
          callback(Object.assign(new Error("mailbox unavailable"), { responseCode: 550 }))
        } else {
          callback()
        }
      },
      onData(stream, session, callback) {
        const chunks: Array<Buffer> = []
        stream.on("data", (chunk: Buffer) => chunks.push(chunk))
        stream.on("end", () => {
          received.push({
            from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            user: typeof session.user === "string" ? session.user : undefined,
            raw: Buffer.concat(chunks).toString("utf8")
          })
          callback()
        })
      }
    })
    // A client that refuses the certificate hangs up mid-handshake; the server reports that as an
    // 'error' event, which is expected here and must not become an uncaught exception.
    server.on("error", () => {})
    const listener = server.listen(0, "127.0.0.1", () => {
      const address = listener.address()
      resolve({
        port: typeof address === "object" && address ? address.port : 0,
        received,
        users: accounts,
        close: () => new Promise((done) => server.close(() => done()))
      })
    })
  })
