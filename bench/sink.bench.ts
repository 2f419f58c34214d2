/**
 * Database sinks: how fast change events reach a PostgreSQL table through a sink, with one
 * event per transaction (`batchSize` 1) and with the default batching (100), in one run on one
 * throwaway server (these machines are noisy: compare the ratio, not the figures).
 *
 *   node --import tsx bench/sink.bench.ts [events]
 */
import pg from 'pg'
import { startPostgres } from '../test/helpers/postgres.js'
import {
  ACCOUNT,
  change,
  metric,
  putEvents,
  REGION,
  ruleTo,
  sinksApi,
  startJunction,
  version,
} from '../test/sink/helpers.js'

const events = Number(process.argv[2] ?? 2000)
const db = await startPostgres()
const server = await startJunction()
const client = new pg.Client({ connectionString: db.url })
await client.connect()
try {
  for (const [name, batchSize] of [
    ['one', 1],
    ['batched', 100],
  ] as const) {
    await client.query(
      `CREATE TABLE ${name} (id int PRIMARY KEY, n int, _junction_version text, _junction_deleted boolean)`,
    )
    await sinksApi(server.url, 'PUT', name, {
      kind: 'postgres',
      url: db.url,
      table: name,
      key: ['id'],
      batchSize,
    })
    await ruleTo(
      server.url,
      `to-${name}`,
      { Id: name, Arn: `arn:aws:events:${REGION}:${ACCOUNT}:junction-sink/${name}` },
      { 'detail-type': [`public.${name}`] },
    )
    const entries = Array.from({ length: events }, (_, i) =>
      change(
        'c',
        version(i + 1),
        { key: { id: i % 500 }, after: { id: i % 500, n: i } },
        `public.${name}`,
      ),
    )
    const started = performance.now()
    await putEvents(server.url, entries)
    while ((await metric(server.url, 'SuccessfulInvocationAttempts', `to-${name}`)) < events)
      await new Promise((r) => setTimeout(r, 20))
    const seconds = (performance.now() - started) / 1000
    console.log(
      `batchSize ${String(batchSize).padStart(3)}: ${events} events in ${seconds.toFixed(2)} s, ${Math.round(events / seconds)} events/s`,
    )
  }
} finally {
  await client.end()
  await server.close()
  await db.destroy()
}
