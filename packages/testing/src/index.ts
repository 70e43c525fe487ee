export * as MailServer from "./MailServer.js"
export * as Ports from "./Ports.js"
export * as PostgresServer from "./PostgresServer.js"
export * as Tls from "./Tls.js"
