/**
 * Sends a PostgreSQL CancelRequest for a backend: a fresh TCP connection carrying the backend's
 * process id and secret key. Best effort: failures are ignored, the caller destroys the client.
 */
import { createConnection } from "node:net"

/** Asks the server to cancel whatever the backend `processId` is running. */
export const sendCancel = (address: string, port: number, processId: number, secretKey: number): void => {
  const packet = Buffer.alloc(16)
  packet.writeInt32BE(16, 0)
  packet.writeInt32BE(80877102, 4)
  packet.writeInt32BE(processId, 8)
  packet.writeInt32BE(secretKey, 12)
  const socket = createConnection({ host: address, port })
  socket.setTimeout(5_000, () => socket.destroy())
  socket.on("error", () => socket.destroy())
  socket.on("connect", () => socket.end(packet))
}
