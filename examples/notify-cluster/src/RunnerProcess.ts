/**
 * One runner as a child process (`node --import tsx src/runner.ts`): spawned with its address and
 * the shared configuration in its environment, ready once it prints its `ready` line, and stopped
 * (SIGTERM) when its scope closes. `kill` sends any signal and waits for the process to end.
 */

import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type { PlatformError } from "@effect/platform/Error"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)))

/** The line a runner prints on stdout once its sharding, storage and workflows are up. */
export const ReadyLine = Schema.parseJson(
  Schema.Struct({ event: Schema.Literal("ready"), host: Schema.String, port: Schema.Number, pid: Schema.Number })
)

/** A runner process exited before it was ready. */
export class RunnerExited extends Schema.TaggedError<RunnerExited>("@patchbay/example-notify-cluster/RunnerExited")(
  "RunnerExited",
  { runner: Schema.String, detail: Schema.String }
) {}

/** A running runner process. */
export interface RunnerProcess {
  readonly name: string
  readonly port: number
  readonly pid: number
  /** Sends `signal` and waits until the process has ended. */
  readonly kill: (signal: CommandExecutor.Signal) => Effect.Effect<void, PlatformError>
  /** Whether the process is still running. */
  readonly isRunning: Effect.Effect<boolean, PlatformError>
  /** Succeeds with the exit code or fails when the process ended by a signal. */
  readonly exitCode: Effect.Effect<CommandExecutor.ExitCode, PlatformError>
}

/** Options of `spawn`. */
export interface Options {
  readonly name: string
  readonly host: string
  readonly port: number
  /** Extra environment (the database URL, the keys). */
  readonly env: Readonly<Record<string, string>>
  /** Where the runner's stderr lines go (its logs). */
  readonly onLog: (name: string, line: string) => void
}

/** Spawns a runner and waits until it reports ready (or fails if it exits first). */
export const spawn = Effect.fn("RunnerProcess.spawn")(function* (
  options: Options
): Effect.fn.Return<RunnerProcess, PlatformError | RunnerExited, CommandExecutor.CommandExecutor | Scope.Scope> {
  const command = Command.make(
    process.execPath,
    "--import",
    "tsx",
    "--conditions=@patchbay/source",
    join(packageDir, "src", "runner.ts")
  ).pipe(
    Command.workingDirectory(packageDir),
    Command.env({ ...options.env, RUNNER_HOST: options.host, RUNNER_PORT: String(options.port) })
  )
  const child = yield* Command.start(command)
  const ready = yield* Deferred.make<void>()
  const decodeReady = Schema.decodeUnknownOption(ReadyLine)
  yield* child.stdout.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.runForEach((line) => (decodeReady(line)._tag === "Some" ? Deferred.succeed(ready, undefined) : Effect.void)),
    Effect.forkScoped
  )
  const logs: Array<string> = []
  yield* child.stderr.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.runForEach((line) =>
      Effect.sync(() => {
        logs.push(line)
        options.onLog(options.name, line)
      })
    ),
    Effect.forkScoped
  )
  const exited = child.exitCode.pipe(
    Effect.either,
    Effect.flatMap((exit) =>
      Effect.fail(
        new RunnerExited({
          runner: options.name,
          detail: `${exit._tag === "Right" ? `exit code ${exit.right}` : exit.left.message}\n${logs.slice(-20).join("\n")}`
        })
      )
    )
  )
  yield* Effect.raceFirst(Deferred.await(ready), exited)
  return {
    name: options.name,
    port: options.port,
    pid: child.pid,
    kill: (signal) => child.kill(signal),
    isRunning: child.isRunning,
    exitCode: child.exitCode
  }
})
