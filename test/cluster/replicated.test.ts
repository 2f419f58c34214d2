/**
 * Distributed mode on a three-server NATS cluster with every stream and bucket replicated three
 * times (`--nats-replicas 3`): two `junction serve --store nats` nodes under load while the
 * server leading the jobs stream is killed (kill -9). The stream elects a new leader (seconds on
 * nats-server 2.9); publishes meanwhile are repeated with their message ids, so PutEvents answers
 * later instead of failing, and every acknowledged event is delivered.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { closeEventLoad, configure, report, runLoad, startSink } from '../helpers/event-load.js'
import { startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

let cluster: NatsCluster | undefined
const nodes: ServerProcess[] = []
const dirs: string[] = []

after(async () => {
  const loads = closeEventLoad()
  for (const n of nodes)
    if (n.child.exitCode === null && n.child.signalCode === null) await n.kill()
  await loads
  await cluster?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function node(urls: string): Promise<ServerProcess> {
  const dir = tempDir('junction-node-')
  dirs.push(dir)
  const n = await startServerProcess({
    dataDir: dir,
    args: ['--store', 'nats', '--nats-url', urls, '--nats-replicas', '3', '--nats-ack-wait', '5s'],
  })
  nodes.push(n)
  return n
}

test(
  'the jobs stream leader killed under load: nothing acknowledged is lost',
  { timeout: 180_000 },
  async (t) => {
    cluster = await startNatsCluster({ size: 3 })
    const a = await node(cluster.urls)
    const b = await node(cluster.urls)
    const sink = await startSink()
    await configure(a.url, sink.url)
    await sleep(300)

    const load = runLoad([a.url, b.url], 4)
    await sleep(1500)
    const nc = await connect({ servers: cluster.urls.split(',') })
    const leader = (await (await jetstreamManager(nc)).streams.info('JUNCTION_JOBS')).cluster
      ?.leader
    await nc.close()
    assert.ok(leader, 'the jobs stream has a leader')
    const killedAt = Date.now()
    await cluster.server(leader).kill()
    const ackedBefore = load.acked.size
    // Through the election and a while after it.
    await sleep(12_000)
    await load.stop()
    const missing = await sink.waitForDelivered(load.acked.keys(), 90_000)
    report(t, 'leader killed', {
      leader,
      acknowledged: load.acked.size,
      acknowledgedAfterTheKill: load.acked.size - ackedBefore,
      requestsWithoutAnswer: load.unacked.size / 10,
      failures: Object.fromEntries(load.failures),
      deliveredTwice: [...load.acked.keys()].filter((id) => (sink.counts.get(id) ?? 0) > 1).length,
      secondsOfLoadAfterTheKill: (Date.now() - killedAt) / 1000,
    })
    assert.ok(load.acked.size > ackedBefore, 'PutEvents went on being answered after the kill')
    assert.deepEqual(missing, [], 'acknowledged events lost')
    await cluster.server(leader).restart()
  },
)
