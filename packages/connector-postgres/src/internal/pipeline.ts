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
  prependOnceListener(event: "readyForQuery", listener: (message: Message) => void): unknown
}

/** Something `client.query` accepts and drives with the backend's messages. */
interface Submittable {
  submit(connection: unknown): void
}

const prepareValue: (value: unknown) => unknown = (() => {
  const utils = (pg as unknown as { utils?: { prepareValue?: (value: unknown) => unknown } }).utils
  if (typeof utils?.prepareValue !== "function") throw new Error("pg.utils.prepareValue is missing")
  return utils.prepareValue
})()

const noValues: ReadonlyArray<unknown> = []

/** Named statements already parsed on each connection. */
const prepared = new WeakMap<object, Set<string>>()

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
  private status = "I"
  private failed = false

  constructor(
    private readonly before: ReadonlyArray<Step>,
    private readonly main: Step,
    private readonly maxRows: number,
    private readonly after: ReadonlyArray<Step>,
    private readonly resolve: (result: PipelineResult) => void,
    private readonly reject: (cause: unknown) => void
  ) {}

  private wire: Wire | undefined

  submit(connection: unknown): void {
    const wire = connection as Wire
    this.wire = wire
    wire.prependOnceListener("readyForQuery", (message) => {
      this.status = message.status ?? "I"
    })
    wire.stream.cork?.()
    try {
      for (const step of this.before) this.write(wire, step, 0, false)
      this.write(wire, this.main, this.maxRows + 1, true)
      for (const step of this.after) this.write(wire, step, 0, false)
      wire.sync()
    } finally {
      wire.stream.uncork?.()
    }
  }

  private write(wire: Wire, step: Step, rows: number, describe: boolean) {
    if (step.name === undefined) {
      wire.parse({ text: step.text })
      wire.bind({ values: step.values ?? noValues, valueMapper: prepareValue })
    } else {
      let names = prepared.get(wire)
      if (names === undefined) {
        names = new Set()
        prepared.set(wire, names)
      }
      if (!names.has(step.name)) {
        wire.parse({ text: step.text, name: step.name })
        names.add(step.name)
      }
      wire.bind({ statement: step.name, values: step.values ?? noValues, valueMapper: prepareValue })
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
      this.reject(cause)
      return
    }
    this.rows.push(row)
  }

  handleCommandComplete(message: Message): void {
    if (this.atMain) {
      const match = tagPattern.exec(message.text ?? "")
      if (match) {
        this.command = match[1] ?? null
        if (this.command !== null && dropsPrepared.has(this.command) && this.wire) prepared.delete(this.wire)
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
    if (this.wire && (cause as { code?: unknown }).code === "26000") prepared.delete(this.wire)
    if (this.failed) return
    this.failed = true
    this.reject(cause)
  }

  handleReadyForQuery(): void {
    if (this.failed) return
    this.resolve({
      fields: this.fields,
      rows: this.rows,
      truncated: this.truncated,
      command: this.command,
      rowCount: this.rowCount,
      status: this.status
    })
  }
}

/** The client surface this module needs: pg's `Client#query` with a submittable. */
export interface Queryable {
  query(submittable: Submittable): unknown
}

/** Runs the pipeline on a client. The promise settles once; a parse failure of a row rejects it. */
export const run = (
  client: Queryable,
  options: {
    readonly before: ReadonlyArray<Step>
    readonly main: Step
    readonly maxRows: number
    readonly after: ReadonlyArray<Step>
  }
): Promise<PipelineResult> =>
  new Promise((resolve, reject) => {
    client.query(new Pipeline(options.before, options.main, options.maxRows, options.after, resolve, reject))
  })
