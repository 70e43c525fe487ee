/**
 * The cluster side: `@effect/cluster`'s workflow engine on sockets between runners, with message
 * and runner storage in PostgreSQL (`SqlMessageStorage`, `SqlRunnerStorage` on `@effect/sql-pg`).
 * A runner hosts workflow entities; a client only sends to them and reads replies from storage.
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import type * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"

/**
 * Timings for a small demo cluster: a dead runner is noticed, and its shards taken over, within
 * about a second or two instead of the library's defaults of up to a minute.
 */
export const timings: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  shardsPerGroup: 30,
  refreshAssignmentsInterval: "500 millis",
  runnerHealthCheckInterval: "500 millis",
  entityMessagePollInterval: "500 millis",
  entityReplyPollInterval: "100 millis",
  shardLockRefreshInterval: "1 second",
  shardLockExpiration: "5 seconds",
  entityTerminationTimeout: "2 seconds"
}

/** The cluster's own `SqlClient` on the shared PostgreSQL. */
const sqlClient = (url: Redacted.Redacted) =>
  PgClient.layer({ url, maxConnections: 6, applicationName: "notify-cluster" })

/**
 * A runner listening on `address`: the workflow engine, sharding and storage. Workflows registered
 * on it (`Notify.layer`) run here when the runner owns their shard.
 */
export const layerRunner = (options: {
  readonly url: Redacted.Redacted
  readonly host: string
  readonly port: number
}) =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(
      NodeClusterSocket.layer({
        storage: "sql",
        shardingConfig: {
          ...timings,
          runnerAddress: Option.some(RunnerAddress.make(options.host, options.port))
        }
      })
    ),
    Layer.provide(sqlClient(options.url))
  )

/** A client of the cluster: starts workflows on the runners and waits for their results. */
export const layerClient = (options: { readonly url: Redacted.Redacted }) =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(
      NodeClusterSocket.layer({
        clientOnly: true,
        storage: "sql",
        shardingConfig: { ...timings, runnerAddress: Option.none() }
      })
    ),
    Layer.provide(sqlClient(options.url))
  )
