/**
 * @patchbay/cli: the `patchbay` operator CLI (`serve`, `migrate`, `keys`, `credentials`,
 * `instances`).
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
