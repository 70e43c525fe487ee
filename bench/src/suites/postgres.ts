import { PostgresConnector, PostgresDescriptor, PostgresPools } from "@patchbay/connector-postgres"
import { ConnectorInstance, Database, EgressPolicy, Ids } from "@patchbay/core"
import { PostgresServer } from "@patchbay/testing"
import { Effect, Schema } from "effect"
import pg from "pg"
import {
  cpuNanos,
  limitRow,
  medianOf,
  type PerCall,
  type Row,
  ratioRow,
  type Sampling,
  type Suite,
  sampleEffect
} from "../harness.js"

const connectTo = async (url: URL, database: string) => {
  const client = new pg.Client({
    connectionString: Object.assign(new URL(url), { pathname: `/${database}` }).toString()
  })
  await client.connect()
  return client
}

const contextFor = (url: URL, database: string): PostgresConnector.Context => {
  const configuration = { host: url.hostname, port: Number(url.port), database, ssl_mode: "disable" }
  const now = new Date()
  return {
    instance: ConnectorInstance.fresh({
      id: Ids.InstanceId.make(
        database === "bench" ? "0190d000-0000-7000-8000-000000000001" : "0190d000-0000-7000-8000-000000000002"
      ),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: PostgresDescriptor.id, key: "postgres" },
      instanceName: database,
      configuration,
      authType: "database_password",
      hasCredentials: true,
      at: now
    }),
    credential: { id: "credential-1", version: 1, scope: "organization:0190a000-0000-7000-8000-00000000000a" },
    configuration: Schema.decodeUnknownSync(PostgresDescriptor.Configuration)(configuration),
    credentials: Schema.decodeUnknownSync(PostgresDescriptor.Credentials)({
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password)
    })
  }
}

/** A plain async function awaited in a loop. */
const sampleAsync = async (call: () => Promise<unknown>, { samples, batch }: Sampling): Promise<PerCall> => {
  const wall: Array<number> = []
  const cpu: Array<number> = []
  for (let s = 0; s < samples; s++) {
    const cpuStart = process.cpuUsage()
    const start = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) await call()
    wall.push(Number(process.hrtime.bigint() - start) / batch)
    cpu.push(cpuNanos(cpuStart) / batch)
  }
  return { wall: medianOf(wall), cpu: medianOf(cpu) }
}

/** The sample with the lowest wall time of each round, and the lowest CPU time. */
const best = (rounds: ReadonlyArray<PerCall>): PerCall => ({
  wall: Math.min(...rounds.map((r) => r.wall)),
  cpu: Math.min(...rounds.map((r) => r.cpu))
})

/** A row that reports a ratio without judging it (the CPU a call costs this process). */
const diagnosticRow = (
  name: string,
  subject: number,
  baseline: { readonly name: string; readonly median: number }
): Row => ({
  name,
  median: subject,
  baseline,
  target: "— (diagnostic)",
  met: true
})

/**
 * Run Query and schema discovery against raw `pg` on the same throwaway server. The driver runs as a
 * host runs it: on stock effect, every call in one long-running fiber (not a `runPromise` per call).
 * Both sides run the same SQL with the same parameters on a pool of 4, each reusing its warm
 * connection; the driver is measured through its public `query`.
 */
const suite: Suite = {
  name: "PostgreSQL connector (Run Query, schema discovery)",
  run: async () => {
    const server = await PostgresServer.start()
    const url = new URL(server.url)
    const setup = await connectTo(url, "postgres")
    await setup.query("CREATE DATABASE bench")
    await setup.query("CREATE DATABASE bench_schema")
    await setup.end()

    const bench = await connectTo(url, "bench")
    await bench.query(`CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, born date, score numeric);
      INSERT INTO people SELECT i, 'person ' || i, DATE '2000-01-01' + i % 5000, i * 1.5 FROM generate_series(1, 10000) i;
      ANALYZE people`)
    await bench.end()
    const wide = await connectTo(url, "bench_schema")
    // One DO block per 500 tables: a single transaction would run out of lock slots.
    for (let from = 1; from <= 10_000; from += 500) {
      await wide.query(`DO $$ BEGIN
        FOR i IN ${from}..${from + 499} LOOP
          EXECUTE format('CREATE TABLE t_%s (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now(), amount numeric(12,2), note varchar(200))', i);
        END LOOP; END $$`)
    }
    await wide.end()

    const raw = new pg.Pool({
      connectionString: Object.assign(new URL(url), { pathname: "/bench" }).toString(),
      max: 4
    })
    const context = contextFor(url, "bench")
    const schemaContext = contextFor(url, "bench_schema")
    const oneSql = "SELECT id, name, born, score FROM people WHERE id = $1"
    const manySql = "SELECT id, name, born, score FROM people WHERE id <= $1"
    const one = Database.QueryRequest.make({ sql: oneSql, params: [42], maxRows: 10_000, timeoutMillis: 30_000 })
    const many = Database.QueryRequest.make({ sql: manySql, params: [10_000], maxRows: 10_000, timeoutMillis: 30_000 })
    const oneRow: Sampling = { samples: 15, batch: 200 }
    const manyRows: Sampling = { samples: 15, batch: 6 }

    // Interleaved five times, the lowest median of each: the machine is shared (two cores, other
    // suites and the server itself), and a burst of load during one measurement should not decide
    // the ratio either way. CPU time of this process is reported beside wall time: it is what the
    // client side costs, and moves far less with the load of other processes.
    const program = Effect.gen(function* () {
      const pools = yield* PostgresPools.make({ maxConnections: 4 })
      const driver = PostgresConnector.make(pools)
      const check = yield* driver.query(context, many)
      if (check.rows.length !== 10_000 || check.truncated) return yield* Effect.dieMessage("expected 10k rows")
      const medians = {
        rawOne: [] as Array<PerCall>,
        oursOne: [] as Array<PerCall>,
        rawMany: [] as Array<PerCall>,
        oursMany: [] as Array<PerCall>
      }
      for (let round = 0; round < 5; round++) {
        medians.rawOne.push(yield* Effect.promise(() => sampleAsync(() => raw.query(oneSql, [42]), oneRow)))
        medians.oursOne.push(yield* sampleEffect(driver.query(context, one), oneRow))
        medians.rawMany.push(yield* Effect.promise(() => sampleAsync(() => raw.query(manySql, [10_000]), manyRows)))
        medians.oursMany.push(yield* sampleEffect(driver.query(context, many), manyRows))
      }
      const schema = yield* driver.discoverSchema(schemaContext, Database.SchemaRequest.make({}))
      if (schema.tables.length !== 10_000) {
        return yield* Effect.dieMessage(`expected 10k tables, got ${schema.tables.length}`)
      }
      const discovery = yield* sampleEffect(driver.discoverSchema(schemaContext, Database.SchemaRequest.make({})), {
        samples: 5,
        batch: 1
      })
      return {
        rawOne: best(medians.rawOne),
        oursOne: best(medians.oursOne),
        rawMany: best(medians.rawMany),
        oursMany: best(medians.oursMany),
        discovery: discovery.wall
      }
    }).pipe(Effect.scoped, Effect.provide(EgressPolicy.layer({ allowLoopback: true })))

    const measured = await Effect.runPromise(program)
    await raw.end()
    await server.dispose()
    const { rawOne, oursOne, rawMany, oursMany } = measured
    return [
      ratioRow("runQuery, 1 row", oursOne.wall, { name: "pg Pool.query", median: rawOne.wall }, 1.15),
      ratioRow("runQuery, 10k rows", oursMany.wall, { name: "pg Pool.query", median: rawMany.wall }, 1.1),
      diagnosticRow("runQuery, 1 row: client CPU per call", oursOne.cpu, { name: "pg Pool.query", median: rawOne.cpu }),
      diagnosticRow("runQuery, 10k rows: client CPU per call", oursMany.cpu, {
        name: "pg Pool.query",
        median: rawMany.cpu
      }),
      limitRow("getSchema, 10k tables × 5 columns", measured.discovery, 2e9)
    ]
  }
}
export default suite
