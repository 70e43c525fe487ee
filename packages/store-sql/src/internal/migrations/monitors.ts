/** Migration 7: health-check history and monitor claims. */
export const monitors: ReadonlyArray<string> = []
