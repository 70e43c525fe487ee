/**
 * Whether an instance still uses the bastion and login its pool was made with (the bastion's
 * settings and one-off tunnels are `@patchbay/ssh-tunnel`'s `Bastion`).
 */
import { Bastion } from "@patchbay/ssh-tunnel"
import type { DriverContext } from "../PostgresPools.js"

/** Whether the instance uses the same bastion and login as `settings` (both undefined: no tunnel). */
export const sameSettings = (
  settings: Bastion.Settings | undefined,
  { configuration: { ssh_tunnel: configuration }, credentials: { ssh_credentials: credentials } }: DriverContext
): boolean =>
  settings === undefined
    ? configuration === undefined
    : configuration !== undefined &&
      Bastion.sameBastion(settings.configuration, configuration) &&
      Bastion.sameLogin(settings.credentials, credentials)
