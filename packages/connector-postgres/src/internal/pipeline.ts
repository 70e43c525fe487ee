/**
 * One round trip of the extended protocol: statements before the main one (their rows ignored),
 * the main statement executed with a row limit of `maxRows + 1`, statements after it, then one
 * Sync. Everything before the Sync is one transaction (implicit unless a step says BEGIN), so a
 * `set_config(…, true)` step scopes a setting to the main statement. The server sends at most
 * `maxRows + 1` rows, whatever the statement would return.
 */
import pg from "pg"

/**
 * A statement with bound values. A `name` makes it a prepared statement parsed once per
 * connection (for the driver's own fixed statements, never for callers' SQL).
 */
export interface Step {
  readonly text: string
  readonly values?: ReadonlyArray<unknown> | undefined
  readonly name?: string | undefined
}

/** A result column as the server described it. */
export interface FieldInfo {
  readonly name: string
  readonly dataTypeID: number
}

/** The main statement's outcome. */
export interface PipelineResult {
  readonly fields: ReadonlyArray<FieldInfo>
  readonly rows: Array<Record<string, unknown>>
  readonly truncated: boolean
  /** The command tag's verb (`SELECT`, `INSERT`…), null for an empty statement. */
  readonly command: string | null
  /** The row count of the command tag (rows returned or affected), null when it has none. */
  readonly rowCount: number | null
  /** The transaction status after the Sync: `I` idle, `T` in a transaction, `E` failed. */
  readonly status: string
}

interface Message {
  readonly text?: string
  readonly fields?: ReadonlyArray<unknown>
  readonly status?: string
}

/** The part of pg's Connection this module writes to. */
interface Wire {
  readonly stream: { cork?: () => void; uncork?: () => void }
  parse(message: { text: string; name?: string }): void
  bind(message: { statement?: string; values: ReadonlyArray<unknown>; valueMapper: (value: unknown) => unknown }): void
  describe(message: { type: "P"; name: string }): void
  execute(message: { portal: string; rows: number }): void
  sync(): void
  sendCopyFail(message: string): void
  prependListener(event: "readyForQuery", listener: (message: Message) => void): unknown
}

/** Something `client.query` accepts and drives with the backend's messages. */
interface Submittable {
  /** Writes the messages; an error returned (nothing written) is handed back by pg through `handleError`. */
  submit(connection: unknown): Error | undefined
}

const prepareValue: (value: unknown) => unknown = (() => {
  const utils = (pg as unknown as { utils?: { prepareValue?: (value: unknown) => unknown } }).utils
  if (typeof utils?.prepareValue !== "function") throw new Error("pg.utils.prepareValue is missing")
  return utils.prepareValue
})()

const noValues: ReadonlyArray<unknown> = []

/** What this module keeps per connection. */
interface WireState {
  /** Named statements already parsed on the connection. */
  readonly prepared: Set<string>
  /** The transaction status of the last ReadyForQuery. */
  status: string
}

const states = new WeakMap<object, WireState>()

/**
 * The connection's state, made on first use with one listener that records each ReadyForQuery's
 * transaction status before pg's own handler hands the message on (pg does not pass it to a
 * submittable): one listener per connection rather than one added and removed per call.
 */
const stateOf = (wire: Wire): WireState => {
  let state = states.get(wire)
  if (state === undefined) {
    const created: WireState = { prepared: new Set(), status: "I" }
    wire.prependListener("readyForQuery", (message) => {
      created.status = message.status ?? "I"
    })
    states.set(wire, created)
    state = created
  }
  return state
}

/** A step's values as the wire format needs them; throws (before anything is written) on a value pg cannot send. */
const prepareValues = (values: ReadonlyArray<unknown> | undefined): ReadonlyArray<unknown> => {
  if (values === undefined || values.length === 0) return noValues
  const prepared = new Array<unknown>(values.length)
  for (let i = 0; i < values.length; i++) prepared[i] = prepareValue(values[i])
  return prepared
}

const asIs = (value: unknown) => value

/** Statements that drop prepared statements on the server. */
const dropsPrepared = new Set(["DEALLOCATE", "DISCARD"])
const tagPattern = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/

class Pipeline implements Submittable {
  private stage = 0
  private fields: ReadonlyArray<FieldInfo> = []
  private names: Array<string> = []
  private parsers: Array<(value: string) => unknown> = []
  private template: Record<string, unknown> = {}
  private readonly rows: Array<Record<string, unknown>> = []
  private truncated = false
  private command: string | null = null
  private rowCount: number | null = null
  private failed = false

  constructor(
    private readonly before: ReadonlyArray<Step>,
    private readonly main: Step,
    private readonly maxRows: number,
    private readonly after: ReadonlyArray<Step>,
    private readonly receiver: Receiver<PipelineResult>
  ) {}

  private state: WireState | undefined

  submit(connection: unknown): Error | undefined {
    const wire = connection as Wire
    const state = stateOf(wire)
    this.state = state
    // Every value is prepared before the first byte is written: a value pg cannot send must not
    // leave half a pipeline (a Parse without its Sync) on the connection.
    let values: Array<ReadonlyArray<unknown>>
    try {
      values = []
      for (const step of this.before) values.push(prepareValues(step.values))
      values.push(prepareValues(this.main.values))
      for (const step of this.after) values.push(prepareValues(step.values))
    } catch (cause) {
      return cause instanceof Error ? cause : new Error(String(cause))
    }
    wire.stream.cork?.()
    try {
      let i = 0
      for (const step of this.before) this.write(wire, state, step, values[i++]!, 0, false)
      this.write(wire, state, this.main, values[i++]!, this.maxRows + 1, true)
      for (const step of this.after) this.write(wire, state, step, values[i++]!, 0, false)
      wire.sync()
    } finally {
      wire.stream.uncork?.()
    }
    return undefined
  }

  private write(
    wire: Wire,
    state: WireState,
    step: Step,
    values: ReadonlyArray<unknown>,
    rows: number,
    describe: boolean
  ) {
    if (step.name === undefined) {
      wire.parse({ text: step.text })
      wire.bind({ values, valueMapper: asIs })
    } else {
      if (!state.prepared.has(step.name)) {
        wire.parse({ text: step.text, name: step.name })
        state.prepared.add(step.name)
      }
      wire.bind({ statement: step.name, values, valueMapper: asIs })
    }
    if (describe) wire.describe({ type: "P", name: "" })
    wire.execute({ portal: "", rows })
  }

  private get atMain() {
    return this.stage === this.before.length
  }

  handleRowDescription(message: Message): void {
    if (!this.atMain) return
    const described = (message.fields ?? []) as ReadonlyArray<{ name: string; dataTypeID: number; format?: string }>
    this.fields = described.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }))
    this.names = described.map((f) => f.name)
    this.parsers = described.map((f) => pg.types.getTypeParser(f.dataTypeID, "text") as (value: string) => unknown)
    const template: Record<string, unknown> = {}
    for (const name of this.names) template[name] = null
    this.template = template
  }

  handleDataRow(message: Message): void {
    if (!this.atMain || this.failed) return
    if (this.rows.length >= this.maxRows) {
      this.truncated = true
      return
    }
    const values = message.fields as ReadonlyArray<string | null>
    const row = { ...this.template }
    const names = this.names
    const parsers = this.parsers
    try {
      for (let i = 0; i < values.length; i++) {
        const raw = values[i]
        if (raw !== null && raw !== undefined) row[names[i]!] = parsers[i]!(raw)
      }
    } catch (cause) {
      this.failed = true
      this.receiver.onFailure(cause)
      return
    }
    this.rows.push(row)
  }

  handleCommandComplete(message: Message): void {
    if (this.atMain) {
      const match = tagPattern.exec(message.text ?? "")
      if (match) {
        this.command = match[1] ?? null
        if (this.command !== null && dropsPrepared.has(this.command)) this.state?.prepared.clear()
        const count = match[3] ?? match[2]
        this.rowCount = count === undefined ? null : Number(count)
      }
    }
    this.stage++
  }

  handlePortalSuspended(): void {
    if (this.atMain) this.command = "SELECT"
    this.stage++
  }

  handleEmptyQuery(): void {
    this.stage++
  }

  handleCopyInResponse(connection: unknown): void {
    ;(connection as Wire).sendCopyFail("COPY FROM STDIN is not supported here")
  }

  handleCopyData(): void {}

  handleError(cause: unknown): void {
    // A prepared statement of ours went missing (DEALLOCATE in a function…): parse them again next time.
    if ((cause as { code?: unknown } | null)?.code === "26000") this.state?.prepared.clear()
    if (this.failed) return
    this.failed = true
    this.receiver.onFailure(cause)
  }

  handleReadyForQuery(): void {
    if (this.failed) return
    this.receiver.onSuccess({
      fields: this.fields,
      rows: this.rows,
      truncated: this.truncated,
      command: this.command,
      rowCount: this.rowCount,
      status: this.state?.status ?? "I"
    })
  }
}

/** The client surface this module needs: pg's `Client#query` with a submittable. */
export interface Queryable {
  query(submittable: Submittable): unknown
}

/** The statements of one pipeline. */
export interface Options {
  readonly before: ReadonlyArray<Step>
  readonly main: Step
  readonly maxRows: number
  readonly after: ReadonlyArray<Step>
}

/** Who hears of a pipeline's outcome: exactly one of the two, once. */
export interface Receiver<A> {
  onSuccess(value: A): void
  onFailure(cause: unknown): void
}

/**
 * Runs the pipeline on a client and tells `receiver` exactly once: `onSuccess` after the Sync's
 * ReadyForQuery, or `onFailure` (a server error, a row that does not parse, a value that cannot be
 * sent). A receiver object rather than a promise keeps the hot path free of extra ticks.
 */
export const submit = (client: Queryable, options: Options, receiver: Receiver<PipelineResult>): void => {
  client.query(new Pipeline(options.before, options.main, options.maxRows, options.after, receiver))
}

/** Runs the pipeline on a client. The promise settles once; a parse failure of a row rejects it. */
export const run = (client: Queryable, options: Options): Promise<PipelineResult> =>
  new Promise((resolve, reject) => submit(client, options, { onSuccess: resolve, onFailure: reject }))
