/**
 * Ports on 127.0.0.1 for tests.
 */
import { createServer } from "node:net"

/** A free TCP port on 127.0.0.1 (bound once, then released): nobody listens on it afterwards. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))
      )
    })
  })
