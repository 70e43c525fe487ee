import { Console, Effect } from "effect"

/** Runs one quickstart step and prints one line: its name, what it returned, and how long it took. */
export const step = <A, E, R>(
  name: string,
  effect: Effect.Effect<A, E, R>,
  describe: (a: A) => string
): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const start = performance.now()
    const result = yield* effect
    const millis = performance.now() - start
    yield* Console.log(`✓ ${name.padEnd(34)} ${describe(result)}  (${millis.toFixed(1)} ms)`)
    return result
  })

/** Runs a step that is expected to fail and prints the failure it got. */
export const expectFailure = <A, E extends { readonly _tag: string; readonly message: string }, R>(
  name: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<E, never, R> =>
  Effect.gen(function* () {
    const start = performance.now()
    const error = yield* Effect.flip(effect).pipe(Effect.orDieWith(() => new Error(`${name}: expected a failure`)))
    const millis = performance.now() - start
    yield* Console.log(`✓ ${name.padEnd(34)} ${error._tag}: ${error.message}  (${millis.toFixed(1)} ms)`)
    return error
  })
