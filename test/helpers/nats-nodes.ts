/**
 * Junction nodes in distributed mode for a test file: `junction serve --store nats` processes
 * on a nats-server of the file's own, each with its own data directory (as separate machines
 * would have), killed and cleaned up when the file ends.
 *
 * @example
 * const cluster = natsNodes()
 * before(() => cluster.start())
 * after(() => cluster.close())
 * const a = await cluster.node()
 */
import { rmSync } from 'node:fs'
import { startNatsServer, type NatsServer } from './nats.js'
import { startServerProcess, tempDir, type ServerProcess } from './server.js'

export type NatsNode = ServerProcess & { dir: string }

export function natsNodes() {
  let nats: NatsServer | undefined
  const nodes: ServerProcess[] = []
  const dirs: string[] = []
  const server = () => {
    if (!nats) throw new Error('natsNodes: start() first')
    return nats
  }
  return {
    async start(): Promise<void> {
      nats = await startNatsServer()
    },
    get nats(): NatsServer {
      return server()
    },
    /** A node; `args` are added to serve's (e.g. `--nats-ack-wait 3s`). */
    async node(args: string[] = []): Promise<NatsNode> {
      const dir = tempDir('junction-node-')
      dirs.push(dir)
      const n = await startServerProcess({
        dataDir: dir,
        args: ['--store', 'nats', '--nats-url', server().url, ...args],
      })
      nodes.push(n)
      return { ...n, dir }
    },
    /** The node dies and its disk with it: nothing it kept locally is left for the others. */
    async lose(n: NatsNode): Promise<void> {
      await n.kill()
      rmSync(n.dir, { recursive: true, force: true })
    },
    /** Stops every node still running (SIGKILL), then NATS; removes every directory. */
    async close(): Promise<void> {
      for (const n of nodes)
        if (n.child.exitCode === null && n.child.signalCode === null) await n.kill()
      await nats?.stop().catch(() => undefined)
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    },
  }
}
