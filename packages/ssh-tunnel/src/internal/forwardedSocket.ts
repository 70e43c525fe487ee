/**
 * A stream that looks enough like a `net.Socket` for drivers that accept a stream in its place
 * (pg's `stream` option): `connect` opens a forwarded channel through the tunnel and emits
 * "connect"; reads, writes and the end are the channel's. A failure to open the channel destroys
 * the stream with the tunnel's typed error.
 */
import { Duplex } from "node:stream"
import type { ClientChannel } from "ssh2"

/** Opens the channel, once. */
export type Opener = (callback: (error: Error | undefined, channel?: ClientChannel) => void) => void

export class ForwardedSocket extends Duplex {
  private channel: ClientChannel | undefined
  private pending: { chunk: Buffer; callback: (error?: Error | null) => void } | undefined
  private ending: (() => void) | undefined
  private opened = false

  constructor(private readonly opener: Opener) {
    // "close" is emitted by `_destroy`, a turn later (see there).
    super({ allowHalfOpen: false, emitClose: false })
  }

  /** Opens the channel (the arguments are the driver's, the destination is the tunnel's). */
  connect(..._args: ReadonlyArray<unknown>): this {
    if (this.opened) return this
    this.opened = true
    this.opener((error, channel) => {
      if (error !== undefined || channel === undefined) {
        this.destroy(error ?? new Error("the tunnel opened no channel"))
        return
      }
      if (this.destroyed) {
        channel.destroy()
        return
      }
      this.attach(channel)
      this.emit("connect")
    })
    return this
  }

  setNoDelay(): this {
    return this
  }

  setKeepAlive(): this {
    return this
  }

  setTimeout(): this {
    return this
  }

  ref(): this {
    return this
  }

  unref(): this {
    return this
  }

  private attach(channel: ClientChannel): void {
    this.channel = channel
    channel.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) channel.pause()
    })
    channel.on("end", () => this.push(null))
    channel.on("error", (error: Error) => this.destroy(error))
    channel.on("close", () => {
      if (!this.destroyed) {
        this.push(null)
        this.destroy()
      }
    })
    const pending = this.pending
    this.pending = undefined
    if (pending !== undefined) channel.write(pending.chunk, pending.callback)
    const ending = this.ending
    this.ending = undefined
    if (ending !== undefined) ending()
  }

  override _read(): void {
    this.channel?.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.channel === undefined) this.pending = { chunk, callback }
    else this.channel.write(chunk, callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    const finish = () => {
      this.channel?.end()
      callback()
    }
    if (this.channel === undefined && !this.destroyed) this.ending = finish
    else finish()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.channel?.destroy()
    callback(error)
    // A TLS socket wrapping this one destroys it before reporting why the handshake failed: the
    // driver must see that error (a refused certificate) before the "close" it would read as the
    // server hanging up. Its error is emitted within this turn; "close" comes after it.
    setImmediate(() => this.emit("close"))
  }
}
