/**
 * The small, replaceable permission model of the surfaces:
 * - `viewer`: list, and masked views;
 * - `member`: create and change instances, user- and agent-scope credentials, tests, activities;
 * - `admin`: workspace and organization credentials, DDL, delete, webhook subscriptions.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 */
export const Role = Schema.Literal("viewer", "member", "admin")

/**
 * @since 0.1.0
 */
export type Role = typeof Role.Type

/**
 * What a surface asks permission for.
 *
 * @since 0.1.0
 */
export type Action =
  | "read"
  | "write-instance"
  | "write-user-credential"
  | "write-shared-credential"
  | "test"
  | "run-activity"
  | "execute-ddl"
  | "delete"
  | "manage-webhooks"

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2 }

const needs: Record<Action, Role> = {
  read: "viewer",
  "write-instance": "member",
  "write-user-credential": "member",
  test: "member",
  "run-activity": "member",
  "write-shared-credential": "admin",
  "execute-ddl": "admin",
  delete: "admin",
  "manage-webhooks": "admin"
}

/**
 * Whether `role` may perform `action`.
 *
 * @since 0.1.0
 */
export const allows = (role: Role, action: Action): boolean => rank[role] >= rank[needs[action]]
