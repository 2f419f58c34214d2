/**
 * A JetStream cluster of our own for a test: `size` nats-server processes on free loopback
 * ports, each with its own store, routed to each other under one cluster name. JetStream
 * clustering needs a `server_name` per server and a `cluster` block, which the 2.9 command line
 * cannot express, so each server gets a generated config file. A server can be killed and
 * restarted on the same ports and store, as a crashed node that comes back.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, spawnNatsServer, type NatsProcess } from './nats.js'

export type ClusterServer = {
  /** The `server_name`, as stream info reports leaders and replicas. */
  name: string
  url: string
  storeDir: string
  running(): boolean
  /** Everything the current process logged so far. */
  output(): string
  /** SIGTERM; resolves when it has exited. */
  stop(): Promise<void>
  /** SIGKILL, as a crash. */
  kill(): Promise<void>
  /** Starts it (the first time, or again after stop or kill) on its ports, config and store. */
  restart(): Promise<void>
}

export type NatsCluster = {
  servers: ClusterServer[]
  /** Every client url, comma-joined, for `connect({ servers: cluster.urls.split(',') })`. */
  urls: string
  /** The server of this `server_name`. */
  server(name: string): ClusterServer
  close(): Promise<void>
}

const CLUSTER_NAME = 'junction-test'

export async function startNatsCluster(options: { size?: number } = {}): Promise<NatsCluster> {
  const size = options.size ?? 3
  const dir = mkdtempSync(join(tmpdir(), 'junction-nats-cluster-'))
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      client: await freePort(),
      route: await freePort(),
    })),
  )
  const servers = ports.map((port, i) => {
    const name = `n${String(i + 1)}`
    const routes = ports
      .filter((p) => p !== port)
      .map((p) => `nats-route://127.0.0.1:${String(p.route)}`)
    const storeDir = join(dir, name)
    mkdirSync(storeDir)
    const config = join(dir, `${name}.conf`)
    writeFileSync(config, serverConfig({ name, port, storeDir, routes }))
    return clusterServer(name, port.client, storeDir, config)
  })
  const cluster: NatsCluster = {
    servers,
    urls: servers.map((s) => s.url).join(','),
    server(name) {
      const found = servers.find((s) => s.name === name)
      if (!found) throw new Error(`no server ${name} in the cluster`)
      return found
    },
    async close() {
      // SIGKILL: the stores are thrown away, so a graceful shutdown would only cost time.
      await Promise.all(servers.filter((s) => s.running()).map((s) => s.kill()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await Promise.all(servers.map((s) => s.restart()))
    await waitForJetStream(cluster.urls, size)
  } catch (err) {
    await cluster.close()
    throw err
  }
  return cluster
}

function serverConfig(o: {
  name: string
  port: { client: number; route: number }
  storeDir: string
  routes: string[]
}): string {
  return `server_name: ${o.name}
listen: 127.0.0.1:${String(o.port.client)}
jetstream {
  store_dir: ${JSON.stringify(o.storeDir)}
}
cluster {
  name: ${CLUSTER_NAME}
  listen: 127.0.0.1:${String(o.port.route)}
  routes: [
    ${o.routes.join('\n    ')}
  ]
}
`
}

function clusterServer(
  name: string,
  port: number,
  storeDir: string,
  config: string,
): ClusterServer {
  let proc: NatsProcess | undefined
  const current = (): NatsProcess => {
    if (!proc) throw new Error(`server ${name} is not running`)
    return proc
  }
  const end = async (signal: NodeJS.Signals) => {
    const p = current()
    p.child.kill(signal)
    await p.exited
    proc = undefined
  }
  let lastOutput = ''
  return {
    name,
    url: `nats://127.0.0.1:${String(port)}`,
    storeDir,
    running: () => proc !== undefined,
    output: () => proc?.output() ?? lastOutput,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      if (proc) throw new Error(`server ${name} is already running`)
      proc = await spawnNatsServer(['-c', config])
      const started = proc
      void started.exited.then(() => (lastOutput = started.output()))
    },
  }
}

/**
 * A cluster is usable once the JetStream meta group has a leader and every server has joined it:
 * until then the API answers "JetStream system temporarily unavailable" or refuses a replicated
 * stream for want of peers. So create and delete a stream of `size` replicas until it works.
 */
async function waitForJetStream(urls: string, size: number): Promise<void> {
  const nc: NatsConnection = await connect({ servers: urls.split(','), maxReconnectAttempts: -1 })
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false })
    const deadline = Date.now() + 30_000
    let last: unknown
    for (;;) {
      try {
        await jsm.getAccountInfo()
        await jsm.streams.add({
          name: 'CLUSTER_READY',
          subjects: ['cluster.ready'],
          num_replicas: size,
          max_age: nanos(60_000),
        })
        await jsm.streams.delete('CLUSTER_READY')
        return
      } catch (err) {
        last = err
      }
      if (Date.now() > deadline)
        throw new Error(`JetStream cluster not ready after 30 s: ${String(last)}`, { cause: last })
      await new Promise((r) => setTimeout(r, 250))
    }
  } finally {
    await nc.close()
  }
}
