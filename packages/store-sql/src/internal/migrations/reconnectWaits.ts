/** Migration 8: workflow executions waiting for an instance to be reconnected. */
export const reconnectWaits: ReadonlyArray<string> = []
