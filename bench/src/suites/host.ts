import { randomBytes, randomUUID } from "node:crypto"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { Actor, CredentialRepository, Ids } from "@patchbay/core"
import { CredentialResolver } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring, Rotation } from "@patchbay/crypto"
import { Patchbay } from "@patchbay/preset"
import { SqlStore } from "@patchbay/store-sql"
import { PostgresServer } from "@patchbay/testing"
import { Effect, Either, Layer, Redacted } from "effect"
import pg from "pg"
import { freshDatabase, plaintext, postgresInstance, sealedCredential } from "../fixtures.js"
import { cpuNanos, formatNanos, medianOf, type PerCall, type Row, type Suite, sampleEffect } from "../harness.js"

/** Credentials the rotation case re-wraps: 20k by default, `PATCHBAY_BENCH_ROTATION_ROWS=1000000` for 1M. */
const rotationRows = Math.max(1000, Number(process.env.PATCHBAY_BENCH_ROTATION_ROWS ?? 20_000))
/** Rows per rotation batch (`Rotation.run`'s `batchSize`): `PATCHBAY_BENCH_ROTATION_BATCH`, default 100. */
const rotationBatch = Math.max(1, Number(process.env.PATCHBAY_BENCH_ROTATION_BATCH ?? 100))
/** `PATCHBAY_BENCH_ROTATION_ONLY=1` skips the resolve cases (a long rotation run on its own). */
const rotationOnly = process.env.PATCHBAY_BENCH_ROTATION_ONLY === "1"
/** Connections on both sides: layerPg's pool and the raw pg pool. */
const poolSize = 10
const callers = 32

/** Calls per second of `callers` concurrent callers, each making `perCaller` calls, and CPU per call. */
const throughput = <A, E, R>(call: Effect.Effect<A, E, R>, perCaller: number) =>
  Effect.gen(function* () {
    const cpuStart = process.cpuUsage()
    const start = process.hrtime.bigint()
    yield* Effect.forEach(
      Array.from({ length: callers }, (_, i) => i),
      () => Effect.repeatN(call, perCaller - 1),
      { concurrency: callers, discard: true }
    )
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    return { perSecond: (callers * perCaller) / seconds, cpu: cpuNanos(cpuStart) / (callers * perCaller) }
  })

const key = () => ({ key: Redacted.make(new Uint8Array(randomBytes(32))) })

/** One row of the report; `met` undefined means reported only. */
const row = (name: string, median: number, target: string, met: boolean, baseline?: Row["baseline"]): Row =>
  baseline === undefined ? { name, median, target, met } : { name, median, target, met, baseline }

/**
 * Patchbay as a host runs it: `Patchbay.layer` on `SqlStore.layerPg` against a throwaway PostgreSQL,
 * on stock effect, every call inside one long-running fiber (one `Effect.runPromise` of the whole
 * program), with a raw `pg` pool of the same size in the same run and rounds interleaved.
 *
 * - resolve (an organization credential, read + decrypt) against a raw `pg` SELECT of the same row;
 * - resolves/s with 32 concurrent callers against raw selects/s with 32 concurrent callers;
 * - key rotation (`Rotation.run`) over `PATCHBAY_BENCH_ROTATION_ROWS` credentials (default 20k),
 *   rows/s at the start, the middle and the end.
 */
const suite: Suite = {
  name: "Patchbay as a host runs it (preset on layerPg)",
  run: async () => {
    const server = await PostgresServer.start()
    const { url, drop } = await freshDatabase(server.url, "patchbay_host")
    const raw = new pg.Pool({ connectionString: url, max: poolSize })

    const old = { id: "old", ...key() }
    const current = { id: "new", ...key() }
    // The rotation's rows are sealed under "old"; the preset's primary is "new".
    const oldRing = Keyring.build({ keys: [old], primary: "old" })
    if (Either.isLeft(oldRing)) throw new Error("keyring")
    const sealUnderOld = Envelope.fromKeyring(oldRing.right)
    const preset = Patchbay.layer({
      store: SqlStore.layerPg({ url: Redacted.make(url), maxConnections: poolSize }),
      connectors: [PostgresConnector.connector],
      keys: Layer.merge(Keyring.layer({ keys: [old, current], primary: "new" }), Fingerprint.layerEphemeral),
      egress: { allowLoopback: true }
    })

    const program = Effect.gen(function* () {
      const credentials = yield* CredentialRepository.CredentialRepository
      const envelope = yield* Envelope.Envelope
      const resolver = yield* CredentialResolver.CredentialResolver
      const now = new Date()
      const actor = Actor.ActorInfo.make({
        orgId: Ids.OrgId.make(randomUUID()),
        workspaceId: Ids.WorkspaceId.make(randomUUID()),
        userId: Ids.UserId.make(randomUUID())
      })
      const { instance, scope, credentialId: id } = yield* sealedCredential(envelope, actor, "Warehouse", now)

      // The user walks workspace -> organization; the credential is found at the organization.
      const resolve = resolver.resolve(instance).pipe(Effect.provideService(Actor.Actor, actor))
      const rawSelect = Effect.promise(() => raw.query("SELECT * FROM patchbay.credentials WHERE id = $1", [id]))
      yield* resolve
      yield* rawSelect

      const serial = { raw: [] as Array<PerCall>, resolve: [] as Array<PerCall> }
      const parallel = {
        raw: [] as Array<{ perSecond: number; cpu: number }>,
        resolve: [] as Array<{ perSecond: number; cpu: number }>
      }
      for (let round = 0; round < (rotationOnly ? 0 : 5); round++) {
        serial.raw.push(yield* sampleEffect(rawSelect, { samples: 9, batch: 100 }))
        serial.resolve.push(yield* sampleEffect(resolve, { samples: 9, batch: 100 }))
        parallel.raw.push(yield* throughput(rawSelect, 60))
        parallel.resolve.push(yield* throughput(resolve, 60))
      }

      // Rotation: N credentials of one instance, each sealed for real under "old" (the envelope
      // binds the row's id, so one blob cannot be copied). Per chunk the sealed parts travel as
      // four byte strings of fixed-size pieces (id, wrapped key, nonce, ciphertext), and one
      // INSERT … SELECT over generate_series cuts them apart on the server.
      const rotated = yield* postgresInstance(actor, "Rotation", now)
      const seedStart = process.hrtime.bigint()
      const chunk = 50_000
      let insertNanos = 0n
      for (let from = 0; from < rotationRows; from += chunk) {
        const count = Math.min(chunk, rotationRows - from)
        const ids: Array<Buffer> = []
        const wrapped: Array<Uint8Array> = []
        const nonces: Array<Uint8Array> = []
        const ciphertexts: Array<Uint8Array> = []
        for (let k = 0; k < count; k++) {
          const credentialId = randomUUID()
          const blob = yield* sealUnderOld.seal(
            Redacted.make(plaintext),
            Envelope.aadOf({ id: credentialId, instanceId: rotated.id, scope })
          )
          ids.push(Buffer.from(credentialId.replaceAll("-", ""), "hex"))
          wrapped.push(blob.wrappedKey)
          nonces.push(blob.nonce)
          ciphertexts.push(blob.ciphertext)
        }
        const sizes = [16, wrapped[0]!.length, nonces[0]!.length, ciphertexts[0]!.length]
        if ([wrapped, nonces, ciphertexts].some((parts, i) => parts.some((p) => p.length !== sizes[i + 1]))) {
          throw new Error("sealed parts of unequal length cannot be cut apart by offset")
        }
        const insertStart = process.hrtime.bigint()
        yield* Effect.promise(() =>
          raw.query(
            `INSERT INTO patchbay.credentials (id, org_id, instance_id, scope_type, scope_id, version, labels, masked,
               expires_at, created_at, key_id, wrapped_key, nonce, ciphertext)
             SELECT encode(substring($3::bytea FROM k * $7 + 1 FOR $7), 'hex')::uuid, $1, $2, 'organization', $1,
               $11::int + k + 1, '{}'::jsonb, '{"password":"****"}'::jsonb, NULL, now(), 'old',
               substring($4::bytea FROM k * $8 + 1 FOR $8), substring($5::bytea FROM k * $9 + 1 FOR $9),
               substring($6::bytea FROM k * $10 + 1 FOR $10)
             FROM generate_series(0, $12::int - 1) AS k`,
            [
              actor.orgId,
              rotated.id,
              Buffer.concat(ids),
              Buffer.concat(wrapped),
              Buffer.concat(nonces),
              Buffer.concat(ciphertexts),
              ...sizes,
              from,
              count
            ]
          )
        )
        insertNanos += process.hrtime.bigint() - insertStart
      }
      yield* Effect.promise(() => raw.query("ANALYZE patchbay.credentials"))
      const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9
      const insertSeconds = Number(insertNanos) / 1e9

      // Each batch read is timed: rows/s over the first, middle and last 5% of the rows.
      const marks: Array<{ readonly at: bigint; readonly done: number }> = []
      let done = 0
      const timed = CredentialRepository.CredentialRepository.of({
        ...credentials,
        sealedWithOtherKey: (keyId, limit, after) =>
          credentials.sealedWithOtherKey(keyId, limit, after).pipe(
            Effect.tap((batch) =>
              Effect.sync(() => {
                marks.push({ at: process.hrtime.bigint(), done })
                done += batch.length
              })
            )
          )
      })
      const rotationCpu = process.cpuUsage()
      const rotationStart = process.hrtime.bigint()
      const report = yield* Rotation.run({ batchSize: rotationBatch }).pipe(
        Effect.provideService(CredentialRepository.CredentialRepository, timed)
      )
      const rotationSeconds = Number(process.hrtime.bigint() - rotationStart) / 1e9
      const rotationCpuPerRow = cpuNanos(rotationCpu) / report.rewrapped
      const rateAround = (fraction: number) => {
        const window = Math.max(1, Math.floor(marks.length * 0.05))
        const first = Math.min(marks.length - 1 - window, Math.max(0, Math.floor(marks.length * fraction) - window))
        const a = marks[Math.max(0, first)]!
        const b = marks[Math.max(0, first) + window]!
        return (b.done - a.done) / (Number(b.at - a.at) / 1e9)
      }
      return {
        serial,
        parallel,
        rotation: {
          seedSeconds,
          insertSeconds,
          seconds: rotationSeconds,
          cpuPerRow: rotationCpuPerRow,
          report,
          start: rateAround(0.05),
          middle: rateAround(0.5),
          end: rateAround(1)
        }
      }
    }).pipe(Effect.provide(preset))

    try {
      const m = await Effect.runPromise(program)
      // Ratios per round (each round measures both sides back to back), then their median.
      const serialRatio = medianOf(m.serial.resolve.map((r, i) => r.wall / m.serial.raw[i]!.wall))
      const serialCpuRatio = medianOf(m.serial.resolve.map((r, i) => r.cpu / m.serial.raw[i]!.cpu))
      const parallelRatio = medianOf(m.parallel.resolve.map((r, i) => r.perSecond / m.parallel.raw[i]!.perSecond))
      const resolveWall = medianOf(m.serial.resolve.map((r) => r.wall))
      const rawWall = medianOf(m.serial.raw.map((r) => r.wall))
      const resolveCpu = medianOf(m.serial.resolve.map((r) => r.cpu))
      const rawCpu = medianOf(m.serial.raw.map((r) => r.cpu))
      const resolvesPerSecond = medianOf(m.parallel.resolve.map((r) => r.perSecond))
      const selectsPerSecond = medianOf(m.parallel.raw.map((r) => r.perSecond))
      const r = m.rotation
      const flat = Math.min(r.start, r.middle, r.end) / Math.max(r.start, r.middle, r.end)
      const rounds = (xs: ReadonlyArray<number>) => xs.map((x) => x.toFixed(2)).join(", ")
      const rotationRow = row(
        `key rotation, ${r.report.rewrapped} of ${rotationRows} rows re-wrapped in batches of ${rotationBatch} (${r.report.failed.length} failed) in ${r.seconds.toFixed(1)} s (seeded in ${r.seedSeconds.toFixed(1)} s, of which INSERT ${r.insertSeconds.toFixed(1)} s): rows/s at 0% ${Math.round(r.start)}, 50% ${Math.round(r.middle)}, 100% ${Math.round(r.end)}; CPU/row ${formatNanos(r.cpuPerRow)}`,
        (r.seconds * 1e9) / Math.max(1, r.report.rewrapped),
        "flat: slowest ≥ 0.7× fastest",
        flat >= 0.7 && r.report.rewrapped === rotationRows
      )
      if (rotationOnly) return [rotationRow]
      return [
        row(
          `resolve on PostgreSQL, serial (per-round ratios ${rounds(m.serial.resolve.map((x, i) => x.wall / m.serial.raw[i]!.wall))}; ratio ${serialRatio.toFixed(2)}×)`,
          resolveWall,
          "≤ 1.5× raw pg SELECT",
          serialRatio <= 1.5,
          { name: "raw pg SELECT by id", median: rawWall }
        ),
        row(`resolve, client CPU per call (ratio ${serialCpuRatio.toFixed(2)}×)`, resolveCpu, "— (diagnostic)", true, {
          name: "raw pg SELECT by id",
          median: rawCpu
        }),
        row(
          `resolves/s, ${callers} callers, pool ${poolSize}: ${Math.round(resolvesPerSecond)}/s vs raw ${Math.round(selectsPerSecond)}/s (per-round ratios ${rounds(m.parallel.resolve.map((x, i) => x.perSecond / m.parallel.raw[i]!.perSecond))}; CPU/call ${formatNanos(medianOf(m.parallel.resolve.map((x) => x.cpu)))} vs ${formatNanos(medianOf(m.parallel.raw.map((x) => x.cpu)))})`,
          1e9 / resolvesPerSecond,
          "≥ 0.6× raw selects/s",
          parallelRatio >= 0.6,
          { name: "raw pg SELECT, 32 callers", median: 1e9 / selectsPerSecond }
        ),
        rotationRow
      ]
    } finally {
      await raw.end()
      await drop()
      await server.dispose()
    }
  }
}
export default suite
