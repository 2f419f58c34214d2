/**
 * @module
 * `npm run example:strangler [-- --once] [-- --keep]`: strangling a legacy database with
 * Junction. The legacy shop keeps writing its PostgreSQL tables; Junction streams their changes
 * onto a bus (change capture); a new reporting service reads those events instead of the
 * database and keeps a report live; a new order intake service puts `OrderPlaced` events on the
 * bus, and a sink writes them back into the legacy `orders` table, where the old application
 * sees them. The sink's writes are not captured again (no echo).
 *
 * 1. Starts a throwaway PostgreSQL (`wal_level = logical`) with the legacy schema
 *    (`legacy.sql`), and `junction serve` on its own data directory.
 * 2. Buses `legacy` and `shop`, the queue `report`, rules routing orders' changes and
 *    `OrderPlaced` events to it; the source `legacy` (`junction sources add … --snapshot`) and
 *    the sink `legacy-orders` (`junction sinks add …`) with a rule on `shop` targeting it.
 * 3. The legacy application inserts, updates and deletes orders; the intake places two orders.
 * 4. Waits until the report equals what SQL over the legacy tables says, and the two new
 *    orders are in the legacy table; prints both. With `--once` it stops there (exit 0, or 1
 *    if they disagree); otherwise the legacy application places an order every few seconds and
 *    the report is printed as it changes, until Ctrl-C.
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { execFile } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { startPostgres, type PostgresServer } from '../../test/helpers/postgres.js'
import { startServerProcess, tempDir, type ServerProcess } from '../../test/helpers/server.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '..', '..')
const ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const CREDENTIALS = { accessKeyId: ACCOUNT, secretAccessKey: 'example' }
const run = promisify(execFile)
const say = (line = '') => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Order = { customer: number; total: number }

/** The reporting service: revenue per customer, from the events alone. */
class Report {
  readonly orders = new Map<number, Order>()
  captured = 0
  placed = 0

  /** A change of the legacy `orders` table (change capture) or an order placed (intake). */
  apply(event: { source: string; 'detail-type': string; detail: Record<string, unknown> }) {
    const d = event.detail
    if (event['detail-type'] === 'OrderPlaced') {
      this.placed++
      this.orders.set(Number(d.id), { customer: Number(d.customer_id), total: Number(d.total) })
      return
    }
    this.captured++
    const row = (d.after ?? d.before) as { id: number; customer_id: number; total: string }
    // numeric arrives as a string (lossless); a delete leaves the order out of the report.
    if (d.op === 'd') this.orders.delete(row.id)
    else this.orders.set(row.id, { customer: row.customer_id, total: Number(row.total) })
  }

  /** customer → revenue, in cents (exact). */
  revenue(): Map<number, number> {
    const out = new Map<number, number>()
    for (const o of this.orders.values())
      out.set(o.customer, (out.get(o.customer) ?? 0) + Math.round(o.total * 100))
    return out
  }
}

async function junction(server: ServerProcess, args: string[]): Promise<string> {
  const r = await run(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args, '--endpoint-url', server.url],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_REGION: REGION,
      },
    },
  )
  return r.stdout
}

/** What SQL over the legacy tables says the report should be (the truth it replaces). */
async function legacyRevenue(db: pg.Client): Promise<Map<number, number>> {
  const r = await db.query<{ customer_id: number; cents: string }>(
    'SELECT customer_id, sum(total * 100)::bigint AS cents FROM orders WHERE NOT _junction_deleted GROUP BY customer_id',
  )
  return new Map(r.rows.map((x) => [x.customer_id, Number(x.cents)]))
}

const show = (m: Map<number, number>) =>
  [...m]
    .sort(([a], [b]) => a - b)
    .map(([c, cents]) => `customer ${String(c)}: ${(cents / 100).toFixed(2)}`)
    .join(', ')

const same = (a: Map<number, number>, b: Map<number, number>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  })
  say('Strangling a legacy database: its changes as events, new orders written back')
  const dataDir = tempDir('junction-strangler-')
  let legacy: PostgresServer | undefined
  let server: ServerProcess | undefined
  let db: pg.Client | undefined
  let stopping = false
  const isStopping = () => stopping
  const stop = async (code: number) => {
    if (stopping) return
    stopping = true
    await db?.end().catch(() => undefined)
    await server?.stop()
    await legacy?.destroy()
    if (code === 0 && !values.keep) rmSync(dataDir, { recursive: true, force: true })
    else say(`data kept in ${dataDir}`)
    process.exit(code)
  }
  process.on('SIGINT', () => void stop(0))
  process.on('SIGTERM', () => void stop(0))
  try {
    legacy = await startPostgres()
    legacy.sql(readFileSync(join(HERE, 'legacy.sql'), 'utf8'))
    say(`legacy database: ${legacy.url} (tables customers, orders; publication legacy_pub)`)
    const legacyDb = new pg.Client({ connectionString: legacy.url })
    db = legacyDb
    await legacyDb.connect()
    server = await startServerProcess({ dataDir })
    say(`Junction: ${server.url}`)

    const aws = { endpoint: server.url, region: REGION, credentials: CREDENTIALS }
    const events = new EventBridgeClient(aws)
    const sqs = new SQSClient(aws)
    await events.send(new CreateEventBusCommand({ Name: 'legacy' }))
    await events.send(new CreateEventBusCommand({ Name: 'shop' }))
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'report' }))
    const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:report`
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.QueueUrl,
        Attributes: { ReceiveMessageWaitTimeSeconds: '1' },
      }),
    )
    const rule = async (bus: string, name: string, pattern: object, targetArn: string) => {
      await events.send(
        new PutRuleCommand({
          EventBusName: bus,
          Name: name,
          EventPattern: JSON.stringify(pattern),
        }),
      )
      await events.send(
        new PutTargetsCommand({
          EventBusName: bus,
          Rule: name,
          Targets: [{ Id: 't', Arn: targetArn }],
        }),
      )
    }
    // The report reads order changes from the legacy database and orders placed by the new intake.
    await rule(
      'legacy',
      'orders-to-report',
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.orders'] },
      queueArn,
    )
    await rule('shop', 'placed-to-report', { 'detail-type': ['OrderPlaced'] }, queueArn)
    await junction(server, [
      'sources',
      'add',
      'legacy',
      '--postgres',
      legacy.url,
      '--publication',
      'legacy_pub',
      '--bus',
      'legacy',
      '--snapshot',
    ])
    say("source legacy: the legacy tables' changes onto the bus legacy (snapshot first)")
    // New orders go back into the legacy table, for the old application to see them.
    await junction(server, [
      'sinks',
      'add',
      'legacy-orders',
      '--postgres',
      legacy.url,
      '--table',
      'public.orders',
      '--key',
      'id',
      '--column',
      'id=$.detail.id',
      '--column',
      'customer_id=$.detail.customer_id',
      '--column',
      'total=$.detail.total',
      '--column',
      'status=$.detail.status',
      '--version',
      '$.detail.version',
    ])
    say('sink legacy-orders: OrderPlaced events written back into the legacy orders table')
    await rule(
      'shop',
      'placed-to-legacy',
      { 'detail-type': ['OrderPlaced'] },
      `arn:aws:events:${REGION}:${ACCOUNT}:junction-sink/legacy-orders`,
    )

    const report = new Report()
    const consume = async () => {
      while (!stopping) {
        const got = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        )
        const messages = got.Messages ?? []
        for (const m of messages)
          report.apply(JSON.parse(m.Body ?? '{}') as Parameters<Report['apply']>[0])
        if (messages.length > 0)
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queue.QueueUrl,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          )
      }
    }
    void consume().catch((e: unknown) => {
      if (!stopping) say(`report consumer stopped: ${String(e)}`)
    })

    say('\nThe legacy application changes orders; the intake places two new ones.')
    await legacyDb.query(
      "INSERT INTO orders (id, customer_id, total, status) VALUES (102, 1, 40.00, 'new'), (103, 2, 7.25, 'new')",
    )
    await legacyDb.query("UPDATE orders SET total = 45.00, status = 'shipped' WHERE id = 102")
    await legacyDb.query('DELETE FROM orders WHERE id = 101')
    const placed = [
      { id: 200, customer_id: 2, total: '19.99', status: 'placed', version: '0001' },
      { id: 201, customer_id: 1, total: '5.00', status: 'placed', version: '0001' },
    ]
    await events.send(
      new PutEventsCommand({
        Entries: placed.map((o) => ({
          EventBusName: 'shop',
          Source: 'shop.intake',
          DetailType: 'OrderPlaced',
          Detail: JSON.stringify(o),
        })),
      }),
    )

    const deadline = Date.now() + 60_000
    let truth = await legacyRevenue(legacyDb)
    for (;;) {
      truth = await legacyRevenue(legacyDb)
      const written = await legacyDb.query(
        'SELECT count(*)::int AS n FROM orders WHERE id IN (200, 201)',
      )
      if (same(report.revenue(), truth) && (written.rows[0] as { n: number }).n === 2) break
      if (Date.now() > deadline) {
        say(
          `\nFAILED: the report (${show(report.revenue())}) never matched the legacy tables (${show(truth)})`,
        )
        await stop(1)
        return 1
      }
      await sleep(200)
    }
    say(`report, from events:      ${show(report.revenue())}`)
    say(`legacy tables, from SQL:  ${show(truth)}`)
    say(
      `events read: ${String(report.captured)} captured changes, ${String(report.placed)} orders placed; orders 200 and 201 are in the legacy table, and were not captured again`,
    )
    if (values.once) {
      await stop(0)
      return 0
    }
    say('\nThe legacy application places an order every 3 s. Ctrl-C to stop.')
    // `stopping` is set by the signal handlers, between two awaits.
    for (let id = 300; !isStopping(); id++) {
      await sleep(3000)
      await legacyDb.query(
        "INSERT INTO orders (id, customer_id, total, status) VALUES ($1, $2, $3, 'new')",
        [id, 1 + (id % 2), (id % 50) + 0.99],
      )
      await sleep(500)
      say(`report: ${show(report.revenue())}`)
    }
    return 0
  } catch (e) {
    say(`\nFAILED: ${e instanceof Error ? e.message : String(e)}`)
    if (server) say(server.output().slice(-2000))
    await stop(1)
    return 1
  }
}

process.exitCode = await main()
