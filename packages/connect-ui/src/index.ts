/**
 * @patchbay/connect-ui: the Connect UI (Predefined Apps, Connect, My Connections) as
 * server-rendered pages a host mounts on its `HttpLayerRouter`.
 *
 * @since 0.1.0
 */
export * as ConnectUi from "./ConnectUi.js"
