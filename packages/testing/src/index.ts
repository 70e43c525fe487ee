export * as MailServer from "./MailServer.js"
export * as PostgresServer from "./PostgresServer.js"
export * as Tls from "./Tls.js"
