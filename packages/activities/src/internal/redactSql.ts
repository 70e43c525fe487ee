/**
 * Masks passwords written into SQL before the text reaches an audit row: `PASSWORD '…'` (roles,
 * user mappings' `OPTIONS (password '…')`, dollar-quoted too) and `password=…` inside connection
 * strings (`CREATE SUBSCRIPTION … CONNECTION '…'`). The rest of the statement stays readable.
 */

const passwordLiteral = /\b(password\s+)(?:[Ee]?'(?:[^']|'')*'|(\$\w*\$)[\s\S]*?\2)/gi
const passwordSetting = /\b(password\s*=\s*)(?:'(?:[^']|'')*'|[^\s';]+)/gi

/** `sql` with every password it spells out replaced by `***`. */
export const redactSql = (sql: string): string =>
  sql.replace(passwordLiteral, "$1'***'").replace(passwordSetting, "$1***")
