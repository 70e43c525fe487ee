export * as PostgresServer from "./PostgresServer.js"
