/**
 * @patchbay/mcp: MCP tools for agents over Patchbay connections, served over Streamable HTTP and
 * stdio.
 *
 * @since 0.1.0
 */
export * as McpHttp from "./McpHttp.js"
export * as McpServer from "./McpServer.js"
export * as McpStdio from "./McpStdio.js"
export * as McpTools from "./McpTools.js"
export * as ToolError from "./ToolError.js"
export * as ToolInputs from "./ToolInputs.js"
