/**
 * Names of result column types as `format_type(oid, NULL)` spells them (the names schema discovery
 * uses). Built-in OIDs are fixed across PostgreSQL versions and known here; others (extensions,
 * enums, domains) are looked up once per pool.
 */

/** Built-in type OIDs and their `format_type` names. */
export const builtin: ReadonlyMap<number, string> = new Map([
  [16, "boolean"],
  [17, "bytea"],
  [18, '"char"'],
  [19, "name"],
  [20, "bigint"],
  [21, "smallint"],
  [23, "integer"],
  [24, "regproc"],
  [25, "text"],
  [26, "oid"],
  [114, "json"],
  [142, "xml"],
  [199, "json[]"],
  [650, "cidr"],
  [700, "real"],
  [701, "double precision"],
  [705, "unknown"],
  [774, "macaddr8"],
  [790, "money"],
  [829, "macaddr"],
  [869, "inet"],
  [1000, "boolean[]"],
  [1001, "bytea[]"],
  [1005, "smallint[]"],
  [1007, "integer[]"],
  [1009, "text[]"],
  [1014, "character[]"],
  [1015, "character varying[]"],
  [1016, "bigint[]"],
  [1021, "real[]"],
  [1022, "double precision[]"],
  [1028, "oid[]"],
  [1041, "inet[]"],
  [1042, "character"],
  [1043, "character varying"],
  [1082, "date"],
  [1083, "time without time zone"],
  [1114, "timestamp without time zone"],
  [1115, "timestamp without time zone[]"],
  [1182, "date[]"],
  [1183, "time without time zone[]"],
  [1184, "timestamp with time zone"],
  [1185, "timestamp with time zone[]"],
  [1186, "interval"],
  [1187, "interval[]"],
  [1231, "numeric[]"],
  [1266, "time with time zone"],
  [1560, "bit"],
  [1562, "bit varying"],
  [1700, "numeric"],
  [2205, "regclass"],
  [2206, "regtype"],
  [2249, "record"],
  [2278, "void"],
  [2950, "uuid"],
  [2951, "uuid[]"],
  [3614, "tsvector"],
  [3615, "tsquery"],
  [3802, "jsonb"],
  [3807, "jsonb[]"],
  [3904, "int4range"],
  [3906, "numrange"],
  [3908, "tsrange"],
  [3910, "tstzrange"],
  [3912, "daterange"],
  [3926, "int8range"],
  [4072, "jsonpath"]
])

/** The OIDs among `oids` that neither the built-in table nor `cache` names. */
export const unknownOids = (oids: Iterable<number>, cache: ReadonlyMap<number, string>): Array<number> => {
  const missing = new Set<number>()
  for (const oid of oids) if (!builtin.has(oid) && !cache.has(oid)) missing.add(oid)
  return [...missing]
}

/** The name of a type, or `oid <n>` when it is still unknown. */
export const typeName = (oid: number, cache: ReadonlyMap<number, string>): string =>
  builtin.get(oid) ?? cache.get(oid) ?? `oid ${oid}`

/** The catalog lookup for unknown OIDs: `$1` is an `oid[]`. */
export const lookupSql =
  "SELECT oid::int4 AS oid, pg_catalog.format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])"
