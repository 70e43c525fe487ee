/**
 * Mutual exclusion per key (a credential's instance and scope) for OAuth2 token refresh. The
 * memory layer excludes within one process; `@patchbay/store-sql` provides a PostgreSQL advisory
 * lock that excludes across processes.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { StorageError } from "./DomainError.js"

/**
 * @since 0.1.0
 */
export interface RefreshLockShape {
  /** Runs `effect` while holding the lock named `key`. */
  readonly withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
}

/**
 * @since 0.1.0
 */
export class RefreshLock extends Context.Tag("@patchbay/core/RefreshLock")<RefreshLock, RefreshLockShape>() {}

/**
 * An in-process lock: one semaphore per key, dropped when nobody holds or waits for it.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<RefreshLock> = Layer.sync(RefreshLock, () => {
  const locks = new Map<string, { readonly semaphore: Effect.Semaphore; users: number }>()
  const acquire = (key: string) =>
    Effect.sync(() => {
      let entry = locks.get(key)
      if (entry === undefined) {
        entry = { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
        locks.set(key, entry)
      }
      entry.users++
      return entry
    })
  const release = (key: string, entry: { users: number }) =>
    Effect.sync(() => {
      if (--entry.users === 0) locks.delete(key)
    })
  return RefreshLock.of({
    withLock: (key, effect) =>
      Effect.acquireUseRelease(
        acquire(key),
        (entry) => entry.semaphore.withPermits(1)(effect),
        (entry) => release(key, entry)
      )
  })
})
