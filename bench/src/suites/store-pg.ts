import { randomUUID } from "node:crypto"
import { Actor, CredentialRepository, CredentialScope, Ids } from "@patchbay/core"
import { CredentialRefresher, CredentialResolver } from "@patchbay/credentials"
import { Envelope, Keyring } from "@patchbay/crypto"
import { SqlStore } from "@patchbay/store-sql"
import { PostgresServer } from "@patchbay/testing"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import pg from "pg"
import { freshDatabase, sealedCredential } from "../fixtures.js"
import { limitRow, median, ratioRow, type Suite } from "../harness.js"

const day = 24 * 60 * 60 * 1000
/** Instances in the sweep's organization; each has two credential versions (100k in all). */
const slots = 50_000

/** Seeds the sweep's organization with raw SQL: 100k versions, current expiries spread over 90 days. */
const seed = async (pool: pg.Pool, orgId: string, now: Date) => {
  await pool.query(
    `INSERT INTO patchbay.instances (id, org_id, connector_id, connector_key, instance_name, name_key, configuration,
       auth_type, is_enabled, test_status, has_credentials, status, created_at, updated_at)
     SELECT gen_random_uuid(), $1, '00000000-0000-4000-8000-0000000000a1', 'postgres', 'bench ' || g, 'bench ' || g,
       '{}'::jsonb, 'database_password', true, 'pending', true, 'active', now(), now()
     FROM generate_series(1, $2::int) AS g`,
    [orgId, slots]
  )
  // Version 1 expires three days before version 2, which is the current one.
  await pool.query(
    `INSERT INTO patchbay.credentials (id, org_id, instance_id, scope_type, scope_id, version, labels, masked,
       expires_at, created_at, key_id, wrapped_key, nonce, ciphertext)
     SELECT gen_random_uuid(), i.org_id, i.id, 'organization', i.org_id, v, '{}'::jsonb, '{"password":"****"}'::jsonb,
       $2::timestamptz + random() * interval '90 days' - (2 - v) * interval '3 days', now(), 'bench',
       '\\x00'::bytea, '\\x00'::bytea, '\\x00'::bytea
     FROM patchbay.instances i CROSS JOIN generate_series(1, 2) AS v
     WHERE i.org_id = $1`,
    [orgId, now]
  )
  await pool.query("ANALYZE patchbay.instances, patchbay.credentials")
}

/** The services the suite uses, on `layerPg` with an ephemeral keyring. */
const services = Effect.all({
  credentials: CredentialRepository.CredentialRepository,
  resolver: CredentialResolver.CredentialResolver
})

/**
 * store-sql on a real PostgreSQL (Debian's server, or PATCHBAY_TEST_DATABASE_URL): one credential
 * read, and a resolve (read + decrypt), against one raw `pg` SELECT by primary key on the same
 * server in the same run; the expiry sweep over 100k credentials.
 */
const suite: Suite = {
  name: "store-sql on PostgreSQL",
  run: async () => {
    const server = await PostgresServer.start()
    const { url, drop } = await freshDatabase(server.url, "patchbay_bench")

    const crypto = Envelope.layer.pipe(Layer.provide(Keyring.layerEphemeral()))
    const store = SqlStore.layerPg({ url: Redacted.make(url) })
    const runtime = ManagedRuntime.make(
      CredentialResolver.layer.pipe(
        Layer.provide(CredentialRefresher.layerNone),
        Layer.provideMerge(Layer.merge(store, crypto))
      )
    )
    const pool = new pg.Pool({ connectionString: url, max: 10 })
    try {
      const { credentials, resolver } = await runtime.runPromise(services)
      const now = new Date()
      // A user in a workspace: the read walks the precedence down to the organization scope.
      const actor = Actor.ActorInfo.make({
        orgId: Ids.OrgId.make(randomUUID()),
        workspaceId: Ids.WorkspaceId.make(randomUUID()),
        userId: Ids.UserId.make(randomUUID())
      })
      const { instance, credentialId } = await runtime.runPromise(
        Effect.flatMap(Envelope.Envelope, (envelope) => sealedCredential(envelope, actor, "Warehouse", now))
      )

      // The baseline is fair to the raw driver: the same server and database, its own pg pool of
      // the same size (10) as layerPg's, the row fetched by primary key, and the statement sent as
      // pg sends it by default (unnamed: parsed and planned on every call). layerPg's PgClient sends
      // its statements unnamed too, so both sides pay the same server-side planning.
      // The subjects are the public paths: CredentialRepository.newestValid from layerPg, and
      // CredentialResolver.resolve composed on it, each run through the ManagedRuntime.
      // The three are measured in alternating rounds and each keeps its best median, so a burst of
      // load on a shared machine does not land on one side of the comparison only.
      const rawSelect = () => pool.query("SELECT * FROM patchbay.credentials WHERE id = $1", [credentialId])
      const newestValid = credentials.newestValid(actor.orgId, instance.id, CredentialScope.forActor(actor), now)
      const resolve = resolver.resolve(instance).pipe(Effect.provideService(Actor.Actor, actor))
      let [rawBest, readBest, resolveBest] = [Infinity, Infinity, Infinity]
      for (let round = 0; round < 4; round++) {
        rawBest = Math.min(rawBest, await median(rawSelect, { minMillis: 400 }))
        readBest = Math.min(readBest, await median(() => runtime.runPromise(newestValid), { minMillis: 400 }))
        resolveBest = Math.min(resolveBest, await median(() => runtime.runPromise(resolve), { minMillis: 400 }))
      }
      const raw = { name: "raw pg SELECT by id", median: rawBest }

      const sweepOrg = Ids.OrgId.make(randomUUID())
      await seed(pool, sweepOrg, now)
      const listExpiring = credentials.listExpiring(sweepOrg, now, new Date(now.getTime() + day))
      const found = (await runtime.runPromise(listExpiring)).length
      const sweep = await median(() => runtime.runPromise(listExpiring))

      return [
        ratioRow("newestValid, 3 scopes, hit in the last (layerPg)", readBest, raw, 1.5),
        ratioRow("resolve = newestValid + decrypt (layerPg)", resolveBest, raw, 1.5),
        limitRow(`listExpiring over 100k credentials, 1-day window (${found} rows)`, sweep, 50e6)
      ]
    } finally {
      await pool.end()
      await runtime.dispose()
      await drop()
      await server.dispose()
    }
  }
}
export default suite
