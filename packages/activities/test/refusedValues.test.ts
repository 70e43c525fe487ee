import { assert, describe, layer } from "@effect/vitest"
import { Credentials } from "@patchbay/credentials"
import { ConfigProvider, Effect, Exit, Layer } from "effect"
import { activitiesLayer, connect, connectors } from "./fixtures.js"
import { postgres } from "./postgresFixtures.js"

const secret = "S3cr3t-Valu3-7f9a"

/** Every text a refusal carries: its message, its fields, its rendering. */
const textOf = (error: unknown) =>
  `${error instanceof Error ? `${error.message} ${error.stack ?? ""}` : ""} ${JSON.stringify(error)} ${String(error)}`

describe("a refused configuration value is named, never quoted", () => {
  layer(activitiesLayer([...connectors, postgres]), { excludeTestServices: true })((it) => {
    it.effect("an Authorization header, credentials in base_url, a DSN in host", () =>
      Effect.gen(function* () {
        let tries = 0
        let failures = 0
        const refused: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
          [
            "http-api",
            { base_url: "https://api.example.com", headers: { Authorization: `Bearer ${secret}` } },
            "header"
          ],
          [
            "http-api",
            { base_url: "https://api.example.com", headers: { "proxy-authorization": `Basic ${secret}` } },
            "header"
          ],
          ["http-api", { base_url: `https://user:${secret}@api.example.com` }, "base_url"],
          ["http-api", { base_url: `https://api.example.com/?api_key=${secret}` }, "base_url"],
          ["postgres", { host: `postgres://app:${secret}@db.example.com/app`, database: "app" }, "host"]
        ]
        for (const [i, [connector, configuration, field]] of refused.entries()) {
          const exit = yield* Effect.exit(connect(connector, `refused-${i}`, configuration))
          assert.isTrue(Exit.isFailure(exit), JSON.stringify(configuration))
          if (Exit.isFailure(exit)) {
            const text = textOf(exit.cause._tag === "Fail" ? exit.cause.error : exit.cause)
            tries++
            if (text.includes(secret) || text.includes(encodeURIComponent(secret))) failures++
            assert.include(text, field)
          }
        }
        console.log(`refused configuration values: ${tries} tries, ${failures} failures`)
        assert.strictEqual(failures, 0)
      })
    )
  })

  layer(Layer.empty)((it) => {
    it.effect("a malformed key in PATCHBAY_KEYRING", () =>
      Effect.gen(function* () {
        for (const keyring of [
          `k1:${secret}`,
          `k1=${secret}`,
          `${secret}`,
          `k1:${Buffer.alloc(31, 7).toString("base64")},k2:${secret}`
        ]) {
          const exit = yield* Effect.exit(
            Effect.scoped(Layer.build(Credentials.layerCryptoConfig)).pipe(
              Effect.withConfigProvider(
                ConfigProvider.fromMap(
                  new Map([
                    ["PATCHBAY_KEYRING", keyring],
                    ["PATCHBAY_PRIMARY_KEY_ID", "k1"],
                    ["PATCHBAY_FINGERPRINT_KEY", Buffer.alloc(32, 1).toString("base64")]
                  ])
                )
              )
            )
          )
          assert.isTrue(Exit.isFailure(exit), keyring)
          if (Exit.isFailure(exit)) {
            const text = textOf(exit.cause._tag === "Fail" ? exit.cause.error : exit.cause)
            assert.notInclude(text, secret, keyring)
            assert.include(text, "PATCHBAY_KEYRING")
          }
        }
      })
    )
  })
})
