import { assert, describe, it } from "@effect/vitest"
import { Database } from "@patchbay/core"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll } from "vitest"
import { contextFor, createFixture, type Fixture, makeDriver } from "./helpers.js"

let db: Fixture
const { pools, driver } = makeDriver()

beforeAll(async () => {
  db = await createFixture("pb_schema")
  await db.sql(`
    CREATE SCHEMA sales;
    CREATE TABLE public.customers (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email varchar(255) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      score numeric(5, 2),
      email_lower text GENERATED ALWAYS AS (lower(email)) STORED
    );
    CREATE TABLE sales.orders (
      customer_id bigint REFERENCES public.customers (id),
      line int,
      total numeric NOT NULL DEFAULT 0,
      PRIMARY KEY (customer_id, line)
    );
    INSERT INTO public.customers (email) SELECT 'c' || i || '@x' FROM generate_series(1, 50) i;
    ANALYZE public.customers;
    CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE total > 100;
    CREATE MATERIALIZED VIEW sales.totals AS SELECT customer_id, sum(total) AS total FROM sales.orders GROUP BY 1;
    CREATE TABLE sales.events (at date NOT NULL, kind text) PARTITION BY RANGE (at);
    CREATE TABLE sales.events_2024 PARTITION OF sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE sales.dropped (a int, b int, c int);
    ALTER TABLE sales.dropped DROP COLUMN b;
  `)
})
afterAll(async () => {
  await Effect.runPromise(pools.closeAll)
  await db.drop()
})

describe("schema discovery", () => {
  it.effect("lists tables, views and their fields with types, nullability, defaults and keys", () =>
    Effect.gen(function* () {
      const schema = yield* driver.discoverSchema(contextFor(db), Database.SchemaRequest.make({}))
      const names = schema.tables.map((t) => `${t.schema}.${t.name}:${t.kind}`)
      assert.deepStrictEqual(names, [
        "public.customers:table",
        "sales.big_orders:view",
        "sales.dropped:table",
        "sales.events:partitioned_table",
        "sales.orders:table",
        "sales.totals:materialized_view"
      ])
      const customers = schema.tables[0]!
      assert.strictEqual(customers.estimatedRows, 50)
      assert.deepStrictEqual(
        customers.fields.map((f) => ({ ...f })),
        [
          {
            name: "id",
            type: "bigint",
            nullable: false,
            default: "GENERATED ALWAYS AS IDENTITY",
            primaryKey: true
          },
          { name: "email", type: "character varying(255)", nullable: false, default: null, primaryKey: false },
          {
            name: "created_at",
            type: "timestamp with time zone",
            nullable: false,
            default: "now()",
            primaryKey: false
          },
          { name: "score", type: "numeric(5,2)", nullable: true, default: null, primaryKey: false },
          {
            name: "email_lower",
            type: "text",
            nullable: true,
            default: "GENERATED ALWAYS AS (lower((email)::text)) STORED",
            primaryKey: false
          }
        ]
      )
      const orders = schema.tables.find((t) => t.name === "orders")!
      assert.deepStrictEqual(
        orders.fields.map((f) => [f.name, f.primaryKey, f.default]),
        [
          ["customer_id", true, null],
          ["line", true, null],
          ["total", false, "0"]
        ]
      )
      assert.isNull(schema.tables.find((t) => t.name === "big_orders")!.estimatedRows)
      assert.deepStrictEqual(
        schema.tables.find((t) => t.name === "dropped")!.fields.map((f) => f.name),
        ["a", "c"]
      )
    })
  )

  it.effect("filters by schema name and leaves out the system schemas", () =>
    Effect.gen(function* () {
      const sales = yield* driver.discoverSchema(contextFor(db), Database.SchemaRequest.make({ schemas: ["sales"] }))
      assert.isTrue(sales.tables.length === 5 && sales.tables.every((t) => t.schema === "sales"))
      const none = yield* driver.discoverSchema(contextFor(db), Database.SchemaRequest.make({ schemas: ["nope"] }))
      assert.deepStrictEqual(none.tables, [])
      const all = yield* driver.discoverSchema(contextFor(db), Database.SchemaRequest.make({}))
      assert.isFalse(all.tables.some((t) => t.schema === "pg_catalog" || t.schema === "information_schema"))
    })
  )

  it.effect("works on a read-only instance and encodes as JSON", () =>
    Effect.gen(function* () {
      const schema = yield* driver.discoverSchema(
        contextFor(db, { configuration: { read_only: true } }),
        Database.SchemaRequest.make({ schemas: ["public"] })
      )
      assert.strictEqual(schema.tables.length, 1)
      const encoded = Schema.encodeSync(Database.DatabaseSchema)(schema)
      assert.strictEqual(encoded.tables[0]!.fields.length, 5)
    })
  )
})
