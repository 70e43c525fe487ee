/**
 * The least-privilege report: what the connected account may do, read from information_schema's
 * privilege tables (which list the current account's own grants), and the warning a read-only
 * instance gets when its account can do more than read.
 *
 * @since 0.1.0
 */
import type { DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type { Connection } from "./MysqlPools.js"

/**
 * The connected account's privileges that matter for least privilege.
 *
 * @since 0.1.0
 */
export interface AccountPrivileges {
  /** `user@host` as the server matched it (`CURRENT_USER()`). */
  readonly account: string
  /** Holds SUPER (or every global privilege). */
  readonly superuser: boolean
  /** Holds FILE: reads and writes server files. */
  readonly file: boolean
  /** May grant its privileges to others. */
  readonly grantOption: boolean
  /** Holds CREATE USER. */
  readonly createUser: boolean
  /** May INSERT, UPDATE, DELETE, CREATE, DROP or ALTER anywhere (global, schema or table grants). */
  readonly canWrite: boolean
}

const writePrivileges = "'INSERT','UPDATE','DELETE','CREATE','DROP','ALTER','INDEX','CREATE VIEW','TRIGGER'"

const grantee =
  "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"

const privilegesSql = `
SELECT CURRENT_USER() AS account,
  (SELECT GROUP_CONCAT(DISTINCT PRIVILEGE_TYPE SEPARATOR ',') FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee}) AS global_privileges,
  (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee} AND IS_GRANTABLE = 'YES')
  + (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee} AND IS_GRANTABLE = 'YES') AS grantable,
  (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee} AND PRIVILEGE_TYPE IN (${writePrivileges}))
  + (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ${grantee} AND PRIVILEGE_TYPE IN (${writePrivileges})) AS write_grants`

const writeSet = new Set(writePrivileges.replace(/'/g, "").split(","))

/**
 * Reads the connected account's privileges.
 *
 * @since 0.1.0
 */
export const read = (connection: Connection): Effect.Effect<AccountPrivileges, DriverError.DriverError> =>
  connection.query(privilegesSql, [], { timeoutMillis: 10_000 }).pipe(
    Effect.map((result) => {
      const row = result.rows[0] ?? {}
      const global = new Set(
        String(row.global_privileges ?? "")
          .split(",")
          .filter((p) => p.length > 0)
      )
      return {
        account: String(row.account ?? ""),
        superuser: global.has("SUPER"),
        file: global.has("FILE"),
        grantOption: Number(row.grantable ?? 0) > 0,
        createUser: global.has("CREATE USER"),
        canWrite: [...global].some((p) => writeSet.has(p)) || Number(row.write_grants ?? 0) > 0
      }
    }),
    Effect.withSpan("Privileges.read")
  )

/**
 * The least-privilege warning for a read-only instance, or undefined when its account is fit for it.
 *
 * @since 0.1.0
 */
export const readOnlyWarning = (privileges: AccountPrivileges): string | undefined => {
  const problems = [
    ...(privileges.superuser ? ["holds SUPER"] : []),
    ...(privileges.canWrite ? ["can write"] : []),
    ...(privileges.file ? ["can read and write server files (FILE)"] : []),
    ...(privileges.grantOption ? ["can grant privileges"] : []),
    ...(privileges.createUser ? ["can create users"] : [])
  ]
  return problems.length === 0
    ? undefined
    : `read_only instance, but account ${privileges.account} ${problems.join(", ")}: use an account that can only read`
}
