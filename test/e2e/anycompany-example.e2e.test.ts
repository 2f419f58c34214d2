/**
 * The AnyCompany example (`npm run example:anycompany`) end to end, in `--auth sigv4` mode, as a
 * user runs it: the example deploys the four accounts' templates with `junction deploy` and
 * sends its fixed batch; this test then checks, through each account's own API and with its own
 * expectations (computed here from the batch, not read from the example's output):
 *
 * - B's counts and C's archive hold exactly the valid widgets A sent; the invalid ones are in
 *   central's invalid-widgets queue, each with a reason naming what is wrong;
 * - B's live page, in headless Chromium, changes as more widgets arrive, without a reload (a
 *   screenshot is kept in test-artifacts/anycompany-b.png);
 * - C's report (SQL over the archive, written by a scheduled function when the clock moves)
 *   counts widgets per warehouse per day as they were sent;
 * - `--once` runs the batch and exits 0 after printing the counts and the report.
 */
import { DescribeArchiveCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import assert from 'node:assert/strict'
import { execSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { publishWidgets } from '../../examples/anycompany/service-a/publish.js'
import { FIXED_BATCH, type Widget } from '../../examples/anycompany/service-a/widgets.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const RUN = join(repoRoot, 'examples', 'anycompany', 'run.ts')
const REGION = 'us-east-1'

const valid = FIXED_BATCH.filter((e) => e.invalid === undefined).map((e) => e.detail)
/** What each invalid widget's reason must name (the field at fault). */
const invalidFields: Record<string, string> = {
  'wd-00a1b2c7': 'weight',
  'wd-00a1b2c9': 'warehouse',
  'wd-00a1b2cb': 'aisle',
  'WIDGET-13': 'widget_id',
}

/** Sent by the test while B's page is open: a new warehouse and a new day. */
const MORE: Widget[] = [
  {
    widget_id: 'wd-00b00001',
    warehouse: 'FUK-3',
    location: { aisle: 9, shelf: 'A' },
    weight: 20,
    time: '2026-03-04T09:00:00Z',
  },
  {
    widget_id: 'wd-00b00002',
    warehouse: 'TYO-1',
    location: { aisle: 2, shelf: 'C' },
    weight: 5,
    time: '2026-03-04T09:05:00Z',
  },
  {
    widget_id: 'wd-00b00003',
    warehouse: 'FUK-3',
    location: { aisle: 9, shelf: 'B' },
    weight: 2.5,
    time: '2026-03-04T09:10:00Z',
  },
]

type Example = { child: ChildProcess; output: () => string; exited: Promise<number | null> }
const started: Example[] = []

function startExample(args: string[]): Example {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as in a terminal: Ctrl-C (and the cleanup) reach the server and
    // the function instances it started too.
    detached: true,
  })
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (out += c.toString()))
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  const ex = { child, output: () => out, exited }
  started.push(ex)
  return ex
}

async function waitForOutput(
  ex: Example,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = pattern.exec(ex.output())
    if (m) return m
    if (ex.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the example did not print ${String(pattern)}:\n${ex.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A profile's keys from the credentials file the example generated. */
function keysOf(file: string, profile: string) {
  const section = readFileSync(file, 'utf8')
    .split(/^\[/m)
    .find((s) => s.startsWith(`${profile}]`))
  const value = (k: string) => new RegExp(`^${k} = (.+)$`, 'm').exec(section ?? '')?.[1]
  return {
    accessKeyId: value('aws_access_key_id')!,
    secretAccessKey: value('aws_secret_access_key')!,
  }
}

/** Expected report rows: widgets and weight per day and warehouse of these widgets. */
function perDayAndWarehouse(widgets: Widget[]) {
  const rows = new Map<
    string,
    { day: string; warehouse: string; widgets: number; total_weight_kg: number }
  >()
  for (const w of widgets) {
    const day = w.time!.slice(0, 10)
    const key = `${day} ${w.warehouse!}`
    const row = rows.get(key) ?? { day, warehouse: w.warehouse!, widgets: 0, total_weight_kg: 0 }
    row.widgets += 1
    row.total_weight_kg += w.weight!
    rows.set(key, row)
  }
  return [...rows.keys()]
    .sort()
    .map((k) => rows.get(k)!)
    .map((r) => ({ ...r, total_weight_kg: Math.round(r.total_weight_kg * 100) / 100 }))
}

let example: Example
let endpoint: string
let pageUrl: string
let credentials: string
let reportFile: string
let browser: Browser | undefined

const client = <T>(Client: new (c: object) => T, profile: string) =>
  new Client({ endpoint, region: REGION, credentials: keysOf(credentials, profile) })

before(async () => {
  example = startExample(['--trickle', '0'])
  pageUrl = (await waitForOutput(example, /B's live page: (http:\S+)/, 120_000))[1]!
  const m = await waitForOutput(example, /Junction: (http:\S+)\s+credentials: (\S+)/, 1000)
  endpoint = m[1]!
  credentials = m[2]!
  reportFile = (await waitForOutput(example, /as of [^,]+, (\S+report\.json)\)/, 1000))[1]!
})

after(async () => {
  await browser?.close()
  for (const ex of started) if (ex.child.exitCode === null) process.kill(-ex.child.pid!, 'SIGKILL')
})

test('B and C count exactly the valid widgets A sent; the invalid ones wait in central with reasons', async () => {
  const b = (await (await fetch(new URL('/aggregates.json', pageUrl))).json()) as {
    events: number
    warehouses: Record<string, { count: number }>
  }
  assert.equal(b.events, valid.length)
  const expectedPerWarehouse: Record<string, number> = {}
  for (const w of valid)
    expectedPerWarehouse[w.warehouse!] = (expectedPerWarehouse[w.warehouse!] ?? 0) + 1
  assert.deepEqual(
    Object.fromEntries(Object.entries(b.warehouses).map(([k, v]) => [k, v.count])),
    expectedPerWarehouse,
  )

  const archive = await client(EventBridgeClient, 'c').send(
    new DescribeArchiveCommand({ ArchiveName: 'valid-widgets' }),
  )
  assert.equal(archive.EventCount, valid.length)

  const sqs = client(SQSClient, 'central')
  const queueUrl = `${endpoint}/222222222222/invalid-widgets`
  const reasons = new Map<string, string>()
  const deadline = Date.now() + 10_000
  while (reasons.size < Object.keys(invalidFields).length && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageAttributeNames: ['All'],
      }),
    )
    for (const msg of out.Messages ?? []) {
      const body = JSON.parse(msg.Body!) as { reason: string; event: { detail: Widget } }
      assert.equal(msg.MessageAttributes?.reason?.StringValue, body.reason)
      reasons.set(String(body.event.detail.widget_id), body.reason)
    }
  }
  assert.deepEqual([...reasons.keys()].sort(), Object.keys(invalidFields).sort())
  for (const [id, field] of Object.entries(invalidFields))
    assert.match(reasons.get(id)!, new RegExp(field), `the reason for ${id} names ${field}`)

  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { rows: unknown[] }
  assert.deepEqual(report.rows, perDayAndWarehouse(valid))
})

test("B's live page shows the aggregates change as widgets arrive, without reloading", async () => {
  const executablePath = execSync('command -v chromium', { shell: '/bin/sh' }).toString().trim()
  browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
  await page.goto(pageUrl)
  const text = (selector: string) => page.locator(selector).innerText()
  // Run in the page (strings: the test's own TypeScript has no DOM types).
  const eventsShown = (n: number) =>
    page.waitForFunction(`document.getElementById('events').textContent === '${String(n)}'`, null, {
      timeout: 20_000,
    })
  await eventsShown(valid.length)
  const warehouseCount = async (name: string) => {
    const row = page.locator(`#warehouses tr[data-key="warehouse:${name}"] td`)
    return (await row.count()) === 0 ? 0 : Number(await row.nth(1).innerText())
  }
  const tyoBefore = await warehouseCount('TYO-1')
  assert.equal(tyoBefore, valid.filter((w) => w.warehouse === 'TYO-1').length)
  assert.equal(await warehouseCount('FUK-3'), 0)
  await page.evaluate('window.marker = 42')

  await publishWidgets(client(EventBridgeClient, 'a'), MORE)
  await eventsShown(valid.length + MORE.length)
  assert.equal(await warehouseCount('TYO-1'), tyoBefore + 1)
  assert.equal(await warehouseCount('FUK-3'), 2)
  assert.equal(await text('#status'), 'live')
  assert.equal(await page.evaluate('window.marker'), 42, 'the same page, never reloaded')
  const weight = valid.concat(MORE).reduce((t, w) => t + w.weight!, 0)
  assert.equal(Number(await text('#weight')), Math.round(weight * 100) / 100)
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true })
  await page.screenshot({
    path: join(repoRoot, 'test-artifacts', 'anycompany-b.png'),
    fullPage: true,
  })
})

test("C's scheduled report counts widgets per warehouse per day as sent, when the clock moves", async () => {
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: keysOf(credentials, 'c').accessKeyId,
    AWS_SECRET_ACCESS_KEY: keysOf(credentials, 'c').secretAccessKey,
  }
  // B has the widgets the previous test sent; C gets them by another rule, so wait for them too.
  const c = client(EventBridgeClient, 'c')
  const archived = async () =>
    (await c.send(new DescribeArchiveCommand({ ArchiveName: 'valid-widgets' }))).EventCount
  const archivedBy = Date.now() + 20_000
  while ((await archived()) !== valid.length + MORE.length) {
    assert.ok(Date.now() < archivedBy, "C's archive did not get the widgets sent since")
    await new Promise((r) => setTimeout(r, 150))
  }
  const before = (JSON.parse(readFileSync(reportFile, 'utf8')) as { asOf: string }).asOf
  execSync(`${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts clock advance 1m`, {
    cwd: repoRoot,
    env,
    stdio: 'pipe',
  })
  const expected = perDayAndWarehouse([...valid, ...MORE])
  const deadline = Date.now() + 20_000
  let report: { asOf: string; rows: unknown[] } = { asOf: before, rows: [] }
  while (Date.now() < deadline) {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as typeof report
    if (report.asOf !== before) break
    await new Promise((r) => setTimeout(r, 150))
  }
  assert.notEqual(report.asOf, before, 'a new report after the clock moved')
  assert.deepEqual(report.rows, expected)
})

test('Ctrl-C stops the example cleanly', async () => {
  process.kill(-example.child.pid!, 'SIGINT')
  assert.equal(await example.exited, 0)
  await assert.rejects(fetch(new URL('/health', endpoint)), 'the server stopped with it')
  await assert.rejects(fetch(pageUrl), "and B's page")
})

test('--once sends the batch, prints the counts and the report, and exits 0', async () => {
  const once = startExample(['--once'])
  const code = await once.exited
  const out = once.output()
  assert.equal(code, 0, out)
  const invalid = FIXED_BATCH.length - valid.length
  assert.match(
    out,
    new RegExp(
      `A sent ${String(FIXED_BATCH.length)} widget events: ${String(valid.length)} valid, ${String(invalid)} invalid`,
    ),
  )
  assert.match(out, new RegExp(`central rejected ${String(invalid)} into invalid-widgets`))
  assert.match(out, new RegExp(`B counted ${String(valid.length)} events`))
  assert.match(out, new RegExp(`C archived ${String(valid.length)} events`))
  for (const row of perDayAndWarehouse(valid))
    assert.match(out, new RegExp(`${row.day}\\s+${row.warehouse}\\s+${String(row.widgets)}\\s`))
})
