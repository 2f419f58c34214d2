/**
 * The console's views for archives and replays, schedules, functions, sources and metrics, in a
 * real browser (Debian's chromium through playwright-core) against a real
 * `junction serve --auth sigv4`, with a real PostgreSQL for the change-capture source. Create an
 * archive in the console (its pattern checked as typed), put events, replay them to one rule and
 * see the replay complete; see a scheduled rule's and a Scheduler schedule's next fire times;
 * invoke a function with a payload and see its result and its log line arrive live; see the
 * source listed with its state and lag; see a rule's metric chart move after events. Screenshots
 * go to test-artifacts/console/. Every request the console made is recorded: none was refused.
 */
import { AddPermissionCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda'
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler'
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import assert from 'node:assert/strict'
import { execFileSync, execSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { signRequest } from '../../console/src/aws/sigv4.js'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'
import { buildConsole } from './build-console.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const artifacts = join(repoRoot, 'test-artifacts', 'console')
const REGION = 'us-east-1'
const A = { account: '111111111111', key: 'AKIDCONSOLEVIEWS0001', secret: 'secret-of-views' }

let server: ServerProcess
let pg: PostgresServer
let browser: Browser
let page: Page
let queueUrl: string
/** Every answer the server gave the browser: [status, method, url]. */
const answers: [number, string, string][] = []

const config = () => ({
  endpoint: server.url,
  region: REGION,
  credentials: { accessKeyId: A.key, secretAccessKey: A.secret },
})
const eb = () => new EventBridgeClient(config())
const shot = (name: string) =>
  page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })

/** The zip of a function that logs its payload's name and greets it, or fails when asked. */
function functionZip(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'junction-console-fn-'))
  writeFileSync(
    join(dir, 'index.mjs'),
    [
      'export const handler = async (event) => {',
      "  console.log('greeting', event.name ?? event['detail-type'])",
      "  if (event.fail) throw new Error('asked to fail')",
      '  return { hello: event.name }',
      '}',
      '',
    ].join('\n'),
  )
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'code.zip', 'index.mjs'], { cwd: dir })
  return readFileSync(join(dir, 'code.zip'))
}

/** A signed call to Junction's own route, as `junction sources add` makes it. */
async function addSource(body: object): Promise<void> {
  const text = JSON.stringify(body)
  const req = await signRequest(
    {
      method: 'POST',
      url: new URL('/junction/sources', server.url),
      headers: { 'content-type': 'application/json' },
      body: text,
      region: REGION,
      service: 'events',
    },
    { accessKeyId: A.key, secretAccessKey: A.secret },
  )
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: text })
  assert.equal(res.status, 200, await res.text())
}

before(async () => {
  await buildConsole()
  const dir = tempDir('junction-console-views-')
  const credentials = join(dir, 'credentials')
  writeFileSync(
    credentials,
    `[a]\naws_access_key_id = ${A.key}\naws_secret_access_key = ${A.secret}\naws_account_id = ${A.account}\n`,
  )
  ;[pg, server] = await Promise.all([
    startPostgres(),
    startServerProcess({ args: ['--auth', 'sigv4', '--credentials', credentials] }),
  ])

  // A rule with a queue target (replays and metrics), and a scheduled rule.
  const sqs = new SQSClient(config())
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'shop-orders' }))).QueueUrl!
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))
  ).Attributes!.QueueArn!
  await eb().send(new PutRuleCommand({ Name: 'shop-orders', EventPattern: '{"source":["shop"]}' }))
  await eb().send(
    new PutTargetsCommand({ Rule: 'shop-orders', Targets: [{ Id: 'q', Arn: queueArn }] }),
  )
  await eb().send(new PutRuleCommand({ Name: 'shop-audit', EventPattern: '{"source":["shop"]}' }))
  await eb().send(
    new PutRuleCommand({ Name: 'every-noon', ScheduleExpression: 'cron(0 12 * * ? *)' }),
  )
  await new SchedulerClient(config()).send(
    new CreateScheduleCommand({
      Name: 'paris-morning',
      ScheduleExpression: 'cron(30 9 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: queueArn, RoleArn: `arn:aws:iam::${A.account}:role/scheduler` },
    }),
  )
  await new LambdaClient(config()).send(
    new CreateFunctionCommand({
      FunctionName: 'greeter',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: `arn:aws:iam::${A.account}:role/lambda`,
      Code: { ZipFile: functionZip() },
    }),
  )
  // For the flow map: the function as a rule's target, a rule whose queue does not exist (its
  // edges drawn failing), and a second bus forwarding to the default one.
  const lambdaArn = `arn:aws:lambda:${REGION}:${A.account}:function:greeter`
  const greetRule = await eb().send(
    new PutRuleCommand({
      Name: 'greet',
      EventPattern: '{"source":["shop"],"detail":{"tag":["charted"]}}',
    }),
  )
  await new LambdaClient(config()).send(
    new AddPermissionCommand({
      FunctionName: 'greeter',
      StatementId: 'greet-rule',
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: greetRule.RuleArn,
    }),
  )
  await eb().send(new PutTargetsCommand({ Rule: 'greet', Targets: [{ Id: 'fn', Arn: lambdaArn }] }))
  await eb().send(
    new PutRuleCommand({
      Name: 'to-missing',
      EventPattern: '{"source":["shop"],"detail":{"tag":["charted"]}}',
    }),
  )
  await eb().send(
    new PutTargetsCommand({
      Rule: 'to-missing',
      Targets: [
        {
          Id: 'missing',
          Arn: `arn:aws:sqs:${REGION}:${A.account}:not-made-yet`,
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      ],
    }),
  )
  await eb().send(new CreateEventBusCommand({ Name: 'partners' }))
  await eb().send(
    new PutRuleCommand({
      Name: 'partner-orders',
      EventBusName: 'partners',
      EventPattern: '{"source":["partner"]}',
    }),
  )
  await eb().send(
    new PutTargetsCommand({
      Rule: 'partner-orders',
      EventBusName: 'partners',
      Targets: [{ Id: 'home', Arn: `arn:aws:events:${REGION}:${A.account}:event-bus/default` }],
    }),
  )
  pg.sql(
    'CREATE TABLE orders (id int PRIMARY KEY, total int); CREATE PUBLICATION shop_pub FOR TABLE orders',
  )
  await addSource({ name: 'shop-db', url: pg.url, busName: 'default', publication: 'shop_pub' })

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
  mkdirSync(artifacts, { recursive: true })
})

after(async () => {
  await browser.close()
  await server.stop()
  await pg.destroy()
})

const putShopEvents = async (n: number, tag: string) => {
  const out = await eb().send(
    new PutEventsCommand({
      Entries: Array.from({ length: n }, (_, k) => ({
        Source: 'shop',
        DetailType: 'order placed',
        Detail: JSON.stringify({ tag, k }),
      })),
    }),
  )
  assert.equal(out.FailedEntryCount, 0)
}

test('signs in', async () => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('response', (r) => {
    if (r.url().startsWith(server.url)) answers.push([r.status(), r.request().method(), r.url()])
  })
  await page.goto(`${server.url}/console/archives`)
  await page.getByTestId('access-key').fill(A.key)
  await page.getByTestId('secret-key').fill(A.secret)
  await page.getByTestId('sign-in-region').fill(REGION)
  await page.getByTestId('sign-in').click()
  await page.getByTestId('new-archive').waitFor({ timeout: 20_000 })
})

test('creates an archive (its pattern checked as typed), replays its events to one rule', async () => {
  await page.getByTestId('new-archive').click()
  await page.getByTestId('archive-name').fill('shop-archive')
  await page.getByTestId('archive-pattern').fill('{"source": "shop"}')
  assert.match(
    await page.getByTestId('archive-pattern-check').innerText(),
    /must be an object or an array/,
  )
  assert.equal(await page.getByTestId('save-archive').isDisabled(), true)
  await page.getByTestId('archive-pattern').fill('{"source": ["shop"]}')
  assert.equal(await page.getByTestId('archive-pattern-check').innerText(), 'Valid pattern.')
  await page.getByTestId('save-archive').click()
  const row = page.getByTestId('archive-shop-archive')
  await row.waitFor({ timeout: 20_000 })

  await putShopEvents(3, 'archived')
  // The archive's count follows the events in.
  for (let tries = 0; ; tries++) {
    await page.getByTestId('archives-refresh').click()
    await page.waitForTimeout(300)
    if ((await row.getByTestId('event-count').innerText()) === '3') break
    assert.ok(tries < 60, 'the archive did not count 3 events')
  }
  await row.getByTestId('open-archive').click()
  await page.getByTestId('archive-detail').waitFor()

  const windowEnd = new Date(Date.now() + 1000).toISOString()
  await page.waitForTimeout(1100)
  await page.getByTestId('replay-archive').selectOption('shop-archive')
  await page.getByTestId('replay-name').fill('shop-replay')
  await page.getByTestId('replay-from').fill(new Date(Date.now() - 600_000).toISOString())
  await page.getByTestId('replay-to').fill(windowEnd)
  await page.getByTestId('replay-rule-shop-orders').check()
  await page.getByTestId('replay-start').click()
  const state = page.getByTestId('replay-shop-replay').getByTestId('replay-state')
  await state.waitFor({ timeout: 20_000 })
  await page.waitForFunction(
    `document.querySelector('[data-testid="replay-shop-replay"] [data-testid="replay-state"]')?.textContent === 'COMPLETED'`,
    null,
    { timeout: 60_000 },
  )
  await shot('archives')

  // The queue got the three events twice: as they came, then replayed (to shop-orders only).
  const sqs = new SQSClient(config())
  const bodies: string[] = []
  for (let tries = 0; bodies.length < 6 && tries < 20; tries++) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    )
    bodies.push(...(got.Messages ?? []).map((m) => m.Body ?? ''))
  }
  assert.equal(bodies.length, 6)
  const replayed = bodies.filter((b) => (JSON.parse(b) as Record<string, unknown>)['replay-name'])
  assert.equal(replayed.length, 3)
})

/** The next noon UTC strictly after `now`, worked out by hand. */
function nextNoon(now: number): number {
  const d = new Date(now)
  const noon = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 12)
  return noon > now ? noon : noon + 86_400_000
}

test("a scheduled rule's and a Scheduler schedule's next fire times", async () => {
  const now = Date.now()
  await page.getByTestId('nav-schedules').click()
  const rule = page.getByTestId('scheduled-rule-every-noon').getByTestId('next-fires')
  await rule.locator('li').first().waitFor({ timeout: 20_000 })
  const ruleTimes = await rule.locator('li').allInnerTexts()
  // Worked out from the time before and after the page computed them (noon may pass between).
  const expected = [now, Date.now()].map((t) => {
    const first = nextNoon(t)
    return [first, first + 86_400_000, first + 2 * 86_400_000].map((f) =>
      new Date(f).toISOString().replace('.000Z', 'Z'),
    )
  })
  assert.ok(
    expected.some((e) => JSON.stringify(e) === JSON.stringify(ruleTimes)),
    `${JSON.stringify(ruleTimes)} is not ${JSON.stringify(expected[0])}`,
  )
  const schedule = page.getByTestId('schedule-paris-morning').getByTestId('next-fires')
  await schedule.locator('li').first().waitFor({ timeout: 20_000 })
  const times = await schedule.locator('li').allInnerTexts()
  assert.equal(times.length, 3)
  // 09:30 in Paris is 07:30 UTC in summer and 08:30 UTC in winter.
  for (const t of times)
    assert.match(t, /^\d{4}-\d\d-\d\d 09:30:00 Europe\/Paris \(\d{4}-\d\d-\d\dT0[78]:30:00Z\)$/)
  await shot('schedules')
})

test('invokes a function with a payload; its result, and its log line arriving live', async () => {
  await page.getByTestId('nav-functions').click()
  await page.getByTestId('function-greeter').getByTestId('open-function').click()
  await page.getByTestId('invoke-payload').fill('{"name": "Ada"}')
  await page.getByTestId('invoke').click()
  const out = page.getByTestId('invoke-payload-out')
  await out.waitFor({ timeout: 30_000 })
  assert.deepEqual(JSON.parse(await out.innerText()), { hello: 'Ada' })
  const log = page.getByTestId('function-log')
  await page.waitForFunction(
    `document.querySelector('[data-testid="function-log"]')?.textContent.includes('greeting Ada')`,
    null,
    { timeout: 20_000 },
  )
  // A second invocation while the log is open: its line comes without a reload.
  await page.getByTestId('invoke-payload').fill('{"name": "Grace", "fail": true}')
  await page.getByTestId('invoke').click()
  await page.getByText('The function failed (Unhandled).').waitFor({ timeout: 30_000 })
  assert.match(await out.innerText(), /asked to fail/)
  await page.waitForFunction(
    `document.querySelector('[data-testid="function-log"]')?.textContent.includes('greeting Grace')`,
    null,
    { timeout: 20_000 },
  )
  assert.match(await log.innerText(), /START RequestId/)
  await shot('functions')
})

test('the change-capture source is listed with its state and lag', async () => {
  pg.sql('INSERT INTO orders VALUES (1, 30)')
  await page.getByTestId('nav-sources').click()
  const row = page.getByTestId('source-shop-db')
  await row.waitFor({ timeout: 20_000 })
  await page.waitForFunction(
    `document.querySelector('[data-testid="source-shop-db"] [data-testid="source-state"]')?.textContent === 'streaming'`,
    null,
    { timeout: 30_000 },
  )
  assert.match(await row.innerText(), /postgres: postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/)
  // The lag is read as the source reports it: bytes of WAL and seconds.
  await page.waitForFunction(
    `/\\d/.test(document.querySelector('[data-testid="source-shop-db"] [data-testid="source-lag-bytes"]')?.textContent ?? '')`,
    null,
    { timeout: 30_000 },
  )
  await shot('sources')
})

test("a rule's metric chart moves after events", async () => {
  await page.getByTestId('nav-metrics').click()
  const row = page.getByTestId('metrics-shop-orders')
  await row.waitFor({ timeout: 20_000 })
  // Two reads of /metrics first, so the events fall between reads of the page's history.
  await page.waitForTimeout(3500)
  await putShopEvents(4, 'charted')
  await page.waitForFunction(
    `Number(document.querySelector('[data-testid="metrics-shop-orders"] [data-testid="chart-TriggeredRules"]')?.dataset.recent) >= 4`,
    null,
    { timeout: 30_000 },
  )
  await page.waitForFunction(
    `Number(document.querySelector('[data-testid="metrics-shop-orders"] [data-testid="chart-Invocations"]')?.dataset.recent) >= 4`,
    null,
    { timeout: 30_000 },
  )
  assert.ok((await row.locator('[data-testid="chart-TriggeredRules"] rect.bar').count()) >= 1)
  await shot('metrics')
})

test('the flow map, for the README', async () => {
  await eb().send(
    new PutEventsCommand({
      Entries: [1, 2].map((k) => ({
        EventBusName: 'partners',
        Source: 'partner',
        DetailType: 'order placed',
        Detail: JSON.stringify({ k }),
      })),
    }),
  )
  await page.getByTestId('nav-flow').click()
  const map = page.getByTestId('flow-map')
  await map.waitFor({ timeout: 20_000 })
  await page.waitForFunction(
    `document.querySelector('[data-edge="bus partners -> partner-orders"] text')?.textContent === '2' && document.querySelector('[data-edge="to-missing -> sqs: not-made-yet"]')?.classList.contains('failing') && document.querySelector('[data-edge="greet -> lambda: function:greeter"] text')?.textContent === '4'`,
    null,
    { timeout: 20_000 },
  )
  await map.screenshot({ path: join(artifacts, 'flow-map.png') })
})

test('no request the console made was refused', () => {
  assert.ok(answers.length > 10, `${String(answers.length)} requests recorded`)
  const refused = answers.filter(([status]) => status < 200 || status >= 300)
  assert.deepEqual(refused, [])
  const paths = new Set(answers.map(([, , url]) => new URL(url).pathname))
  // It went through EventBridge's API, Scheduler's, Lambda's, the sources route and /metrics.
  for (const p of ['/', '/schedules', '/2015-03-31/functions/', '/junction/sources', '/metrics'])
    assert.ok(paths.has(p), `no request to ${p}`)
  assert.ok(paths.has('/2015-03-31/functions/greeter/logs'))
})
