/**
 * The side-effect functions: calls whose effect a rolled-back or READ ONLY transaction does not
 * contain (another connection, a session lock, a file, a signal, server state), or that run SQL the
 * policy never sees (a query given as text). A call is judged by its name alone, lower-cased,
 * whatever schema qualifies it, so a function of the same name elsewhere is refused too.
 */

/** What a side-effect function does, as the policy reports it. */
export type SideEffectClass =
  | "remote_connection"
  | "session_advisory_lock"
  | "large_object_file"
  | "server_file"
  | "backend_signal"
  | "server_state"
  | "dynamic_sql"
  | "copy_program"
  | "copy_file"
  | "untrusted_code"
  | "session_setting"

const exact: Record<string, SideEffectClass> = {
  pg_advisory_lock: "session_advisory_lock",
  pg_advisory_lock_shared: "session_advisory_lock",
  pg_try_advisory_lock: "session_advisory_lock",
  pg_try_advisory_lock_shared: "session_advisory_lock",
  pg_advisory_unlock: "session_advisory_lock",
  pg_advisory_unlock_shared: "session_advisory_lock",
  pg_advisory_unlock_all: "session_advisory_lock",
  lo_import: "large_object_file",
  lo_export: "large_object_file",
  pg_read_file: "server_file",
  pg_read_binary_file: "server_file",
  pg_stat_file: "server_file",
  pg_ls_dir: "server_file",
  pg_ls_logdir: "server_file",
  pg_ls_waldir: "server_file",
  pg_ls_tmpdir: "server_file",
  pg_ls_archive_statusdir: "server_file",
  pg_ls_logicalsnapdir: "server_file",
  pg_ls_logicalmapdir: "server_file",
  pg_ls_replslotdir: "server_file",
  pg_file_write: "server_file",
  pg_file_rename: "server_file",
  pg_file_unlink: "server_file",
  pg_file_sync: "server_file",
  pg_logdir_ls: "server_file",
  pg_terminate_backend: "backend_signal",
  pg_cancel_backend: "backend_signal",
  pg_log_backend_memory_contexts: "backend_signal",
  pg_reload_conf: "server_state",
  pg_rotate_logfile: "server_state",
  pg_promote: "server_state",
  pg_switch_wal: "server_state",
  pg_create_restore_point: "server_state",
  pg_backup_start: "server_state",
  pg_backup_stop: "server_state",
  pg_start_backup: "server_state",
  pg_stop_backup: "server_state",
  pg_wal_replay_pause: "server_state",
  pg_wal_replay_resume: "server_state",
  pg_create_physical_replication_slot: "server_state",
  pg_create_logical_replication_slot: "server_state",
  pg_drop_replication_slot: "server_state",
  pg_copy_physical_replication_slot: "server_state",
  pg_copy_logical_replication_slot: "server_state",
  pg_replication_slot_advance: "server_state",
  pg_logical_slot_get_changes: "server_state",
  pg_logical_slot_get_binary_changes: "server_state",
  pg_logical_emit_message: "server_state",
  pg_import_system_collations: "server_state",
  query_to_xml: "dynamic_sql",
  query_to_xmlschema: "dynamic_sql",
  query_to_xml_and_xmlschema: "dynamic_sql",
  ts_stat: "dynamic_sql",
  ts_rewrite: "dynamic_sql"
}

const prefixes: ReadonlyArray<readonly [string, SideEffectClass]> = [
  ["dblink", "remote_connection"],
  ["pg_background", "remote_connection"],
  ["pg_stat_reset", "server_state"],
  ["pg_replication_origin_", "server_state"]
]

/** The class of a function name (any case, unqualified), or undefined when it is not a side-effect function. */
export const sideEffectOf = (name: string): SideEffectClass | undefined => {
  const lower = name.toLowerCase()
  const found = exact[lower]
  if (found !== undefined) return found
  for (const [prefix, kind] of prefixes) if (lower.startsWith(prefix)) return kind
  return undefined
}

/** Every exact side-effect name and prefix, for scanning function bodies the parser cannot read. */
export const bodyPattern: RegExp = new RegExp(
  `\\b(${[...Object.keys(exact), ...prefixes.map(([p]) => `${p}\\w*`)].join("|")})\\b`,
  "i"
)

/** Extensions whose functions are side-effect functions (or run untrusted code). */
export const sideEffectExtensions: ReadonlySet<string> = new Set([
  "dblink",
  "adminpack",
  "file_fdw",
  "pg_background",
  "plpython3u",
  "plpythonu",
  "plpython2u",
  "plperlu",
  "pltclu",
  "plv8u"
])

/** Languages whose functions can reach the server's files and processes. */
export const untrustedLanguage = (language: string): boolean => {
  const lower = language.toLowerCase()
  return lower === "c" || lower === "internal" || (lower.startsWith("pl") && lower.endsWith("u"))
}

/**
 * Settings `set_config` may change in Run Query and DDL: those that only change how values look.
 * Custom settings (`app.tenant`, with a dot) are also allowed. Every other setting may weaken a
 * guard (`transaction_read_only`, `statement_timeout`, `session_replication_role`, `role`,
 * `search_path`…) and is refused; so is any session-level `set_config`, which would outlive the
 * call on a pooled connection.
 */
export const harmlessSettings: ReadonlySet<string> = new Set([
  "application_name",
  "timezone",
  "datestyle",
  "intervalstyle",
  "extra_float_digits",
  "bytea_output",
  "client_min_messages",
  "lc_monetary",
  "lc_numeric",
  "lc_time",
  "xmlbinary",
  "xmloption"
])
