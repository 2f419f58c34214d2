/**
 * The console in a real browser (Debian's chromium through playwright-core) against a real
 * `junction serve --auth sigv4` with two accounts: sign in with account A's key, create a rule
 * with a queue target in the console (the pattern checked as typed), send an event from the
 * sandbox, see it in a second tab's live tail and receive it from the queue with the SDK, and find
 * on the flow map the edge from A's rule to account B's bus (allowed by B's bus policy).
 * Screenshots of each view go to test-artifacts/console/. Every request the console made is
 * recorded: none was refused for that key.
 */
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutPermissionCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import assert from 'node:assert/strict'
import { execSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'
import { buildConsole } from './build-console.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const artifacts = join(repoRoot, 'test-artifacts', 'console')
const REGION = 'us-east-1'
const A = { account: '111111111111', key: 'AKIDCONSOLEA00000001', secret: 'secret-of-a' }
const B = { account: '222222222222', key: 'AKIDCONSOLEB00000002', secret: 'secret-of-b' }

let server: ServerProcess
let browser: Browser
let queueUrl: string
let queueArn: string
let shapedArn: string
let shapedUrl: string
/** Every answer the server gave the browser: [status, method, url]. */
const answers: [number, string, string][] = []

const client = <C>(Client: new (config: object) => C, who: typeof A): C =>
  new Client({
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: who.key, secretAccessKey: who.secret },
  })

before(async () => {
  // The console as the install step builds it, from the sources under test (once for every
  // browser test file running at the same time).
  await buildConsole()
  const dir = tempDir('junction-console-e2e-')
  const credentials = join(dir, 'credentials')
  writeFileSync(
    credentials,
    [A, B]
      .map(
        (w, k) =>
          `[${k === 0 ? 'a' : 'b'}]\naws_access_key_id = ${w.key}\naws_secret_access_key = ${w.secret}\naws_account_id = ${w.account}\n`,
      )
      .join('\n'),
  )
  server = await startServerProcess({ args: ['--auth', 'sigv4', '--credentials', credentials] })

  // B lets A put events on its default bus; A forwards its app's events there.
  await client(EventBridgeClient, B).send(
    new PutPermissionCommand({
      StatementId: 'from-a',
      Action: 'events:PutEvents',
      Principal: A.account,
    }),
  )
  const a = client(EventBridgeClient, A)
  await a.send(new PutRuleCommand({ Name: 'to-b', EventPattern: '{"source":["my.app"]}' }))
  await a.send(
    new PutTargetsCommand({
      Rule: 'to-b',
      Targets: [{ Id: 'b', Arn: `arn:aws:events:${REGION}:${B.account}:event-bus/default` }],
    }),
  )
  await a.send(new PutRuleCommand({ Name: 'other-app', EventPattern: '{"source":["other.app"]}' }))
  const sqs = client(SQSClient, A)
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'orders' }))).QueueUrl!
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  )
  queueArn = attrs.Attributes!.QueueArn!
  // A rule whose target has an input transformer and settings the console's editor does not show.
  const shaped = (await sqs.send(new CreateQueueCommand({ QueueName: 'shaped' }))).QueueUrl!
  shapedUrl = shaped
  shapedArn = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: shaped, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes!.QueueArn!
  await a.send(new PutRuleCommand({ Name: 'shaped', EventPattern: '{"source":["my.app"]}' }))
  await a.send(
    new PutTargetsCommand({
      Rule: 'shaped',
      Targets: [
        {
          Id: 'shaped',
          Arn: shapedArn,
          InputTransformer: {
            InputPathsMap: { order: '$.detail.orderId' },
            InputTemplate: '{"order": <order>, "rule": <aws.events.rule-name>}',
          },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
        },
      ],
    }),
  )

  // A rule whose queue does not exist yet: its events go to a dead-letter queue.
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'orders-dlq' }))).QueueUrl!
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!
  await a.send(new PutRuleCommand({ Name: 'to-later', EventPattern: '{"source":["dlq.test"]}' }))
  await a.send(
    new PutTargetsCommand({
      Rule: 'to-later',
      Targets: [
        {
          Id: 'later',
          Arn: `arn:aws:sqs:${REGION}:${A.account}:later`,
          DeadLetterConfig: { Arn: dlqArn },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      ],
    }),
  )

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
})

async function openSignedIn(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('response', (r) => {
    if (r.url().startsWith(server.url)) answers.push([r.status(), r.request().method(), r.url()])
  })
  await page.goto(`${server.url}/console/`)
  await page.getByTestId('access-key').fill(A.key)
  await page.getByTestId('secret-key').fill(A.secret)
  await page.getByTestId('sign-in-region').fill(REGION)
  if (answers.every(([, , url]) => new URL(url).pathname !== '/')) await shot(page, 'sign-in')
  await page.getByTestId('sign-in').click()
  await page.getByTestId('account').waitFor({ timeout: 20_000 })
  return page
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })

let page: Page
let tailPage: Page
/** EventIds of the events the sandbox sent. */
const sentIds: string[] = []

test('signs in with the key; the account comes from the server', async () => {
  page = await openSignedIn()
  assert.match(
    await page.getByTestId('account').innerText(),
    /111111111111 \(AKIDCONSOLEA00000001\)/,
  )
  await page.getByTestId('rule-to-b').waitFor({ timeout: 20_000 })
  await shot(page, 'rules')
})

test('creates a rule with a queue target; the pattern is checked as it is typed', async () => {
  await page.getByTestId('new-rule').click()
  await page.getByTestId('rule-name').fill('orders-to-queue')
  await page.getByTestId('rule-pattern').fill('{"source": "my.app"}')
  assert.match(
    await page.getByTestId('pattern-check').innerText(),
    /^Event pattern is not valid\. Reason: "source" must be an object or an array/,
  )
  assert.equal(await page.getByTestId('save-rule').isDisabled(), true)
  await page
    .getByTestId('rule-pattern')
    .fill('{"source": ["my.app"], "detail-type": ["OrderPlaced"]}')
  assert.equal(await page.getByTestId('pattern-check').innerText(), 'Valid pattern.')
  await page.getByTestId('add-target').click()
  await page.getByTestId('target-0').getByTestId('target-id').fill('queue')
  await page.getByTestId('target-0').getByTestId('target-arn').fill(queueArn)
  await shot(page, 'rule-editor')
  await page.getByTestId('save-rule').click()
  const rule = page.getByTestId('rule-orders-to-queue')
  await rule.waitFor({ timeout: 20_000 })
  assert.match(await rule.innerText(), new RegExp(`queue → ${queueArn}`))
  assert.match(await rule.innerText(), /"detail-type": \[\s*"OrderPlaced"\s*\]/)
  assert.equal(await rule.getByTestId('state').innerText(), 'ENABLED')
})

test('a second tab tails the bus', async () => {
  tailPage = await openSignedIn()
  await tailPage.getByTestId('nav-tail').click()
  await tailPage.getByTestId('tail-stats').waitFor({ timeout: 20_000 })
  // The stream is open once the server counts a subscriber; the first event proves it below.
})

test('the sandbox explains every rule, sends the event, and the tail and the queue get it', async () => {
  await page.getByTestId('nav-sandbox').click()
  await page.getByTestId('sandbox-event').fill(
    JSON.stringify({
      source: 'my.app',
      'detail-type': 'OrderPlaced',
      detail: { orderId: 'o-7' },
    }),
  )
  const verdict = (rule: string) => page.getByTestId(`verdict-${rule}`)
  await verdict('orders-to-queue').waitFor({ timeout: 20_000 })
  assert.match(await verdict('orders-to-queue').innerText(), /orders-to-queue: matches/)
  assert.match(await verdict('to-b').innerText(), /to-b: matches/)
  assert.match(
    await verdict('other-app').innerText(),
    /other-app: does not match\s+no match: source: "my\.app" matched none of \["other\.app"\]/,
  )
  // What each target would receive: the whole event, or its transformer's output.
  assert.match(await verdict('orders-to-queue').innerText(), /"orderId":"o-7"/)
  assert.match(await verdict('shaped').innerText(), /\{"order": "o-7", "rule": "shaped"\}/)
  await shot(page, 'sandbox')

  // Saved in a named collection, still there after a reload.
  await page.getByPlaceholder('collection').fill('orders')
  await page.getByPlaceholder('event name').fill('placed o-7')
  await page.getByTestId('save-event').click()
  await page.reload()
  await page.getByTestId('sandbox-event').fill('{}')
  await page.getByRole('button', { name: 'placed o-7' }).click()
  assert.deepEqual(JSON.parse(await page.getByTestId('sandbox-event').inputValue()), {
    source: 'my.app',
    'detail-type': 'OrderPlaced',
    detail: { orderId: 'o-7' },
  })

  // The tail may open after the first send: send until the tail shows one (each is one event).
  const deadline = Date.now() + 60_000
  for (;;) {
    await page.getByTestId('send-event').click()
    const sent = page.getByTestId('sent')
    await sent.waitFor({ timeout: 20_000 })
    await page.waitForFunction(
      `(() => { const t = document.querySelector('[data-testid=sent]')?.textContent ?? ''; return !${JSON.stringify(sentIds)}.some((id) => t.includes(id)) })()`,
      null,
      { timeout: 20_000 },
    )
    sentIds.push((await sent.innerText()).replace(/^Sent: /, ''))
    const shown = await tailPage
      .getByTestId('tail-rows')
      .locator('tbody tr')
      .first()
      .waitFor({ timeout: 3000 })
      .then(
        () => true,
        () => false,
      )
    if (shown || Date.now() > deadline) break
  }
  const row = tailPage.getByTestId('tail-rows').locator('tbody tr').first()
  const text = await row.innerText()
  assert.match(text, /my\.app/)
  assert.match(text, /OrderPlaced/)
  assert.match(text, /orders-to-queue/)
  assert.match(text, /to-b/)
  assert.match(await tailPage.getByTestId('tail-stats').innerText(), /0 dropped/)
  await shot(tailPage, 'tail')

  const sqs = client(SQSClient, A)
  const received: string[] = []
  const until = Date.now() + 60_000
  while (received.length < sentIds.length && Date.now() < until) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
      }),
    )
    for (const m of out.Messages ?? []) {
      const event = JSON.parse(m.Body!) as {
        id: string
        source: string
        detail: { orderId: string }
      }
      assert.equal(event.source, 'my.app')
      assert.equal(event.detail.orderId, 'o-7')
      received.push(event.id)
    }
  }
  assert.deepEqual(received.sort(), sentIds.sort())
})

test("the flow map draws A's rule crossing to B's bus, with counts from the metrics", async () => {
  await page.getByTestId('nav-flow').click()
  const cross = page.getByTestId('flow-map').getByTestId('cross-edge')
  await cross.first().waitFor({ timeout: 20_000 })
  assert.equal(await cross.count(), 1)
  assert.equal(await cross.getAttribute('data-edge'), 'to-b -> events: bus default')
  const map = (await page.getByTestId('flow-map').textContent()) ?? ''
  assert.match(map, /account 222222222222, us-east-1/)
  assert.match(map, /sqs: orders/)
  // Each event the sandbox sent triggered the rule once (the map reads /metrics every 5 s).
  await page.waitForFunction(
    `document.querySelector('[data-edge="bus default -> orders-to-queue"] text')?.textContent === '${String(sentIds.length)}'`,
    null,
    { timeout: 30_000 },
  )
  await shot(page, 'flow')
})

test('enable, disable and edit keep what the editor does not show', async () => {
  await page.getByTestId('nav-rules').click()
  const other = page.getByTestId('rule-other-app')
  await other.getByTestId('toggle').click()
  await page.waitForFunction(
    `document.querySelector('[data-testid=rule-other-app] [data-testid=state]')?.textContent === 'DISABLED'`,
    null,
    { timeout: 20_000 },
  )
  const a = client(EventBridgeClient, A)
  assert.equal((await a.send(new DescribeRuleCommand({ Name: 'other-app' }))).State, 'DISABLED')

  await page.getByTestId('rule-shaped').getByTestId('edit').click()
  await page.getByTestId('rule-pattern').fill('{"source": ["my.app", "your.app"]}')
  await page.getByTestId('save-rule').click()
  await page.getByTestId('rule-shaped').waitFor({ timeout: 20_000 })
  await shot(page, 'rules-after-edit')
  const rule = await a.send(new DescribeRuleCommand({ Name: 'shaped' }))
  assert.deepEqual(JSON.parse(rule.EventPattern!), { source: ['my.app', 'your.app'] })
  const targets = (await a.send(new ListTargetsByRuleCommand({ Rule: 'shaped' }))).Targets!
  assert.equal(targets.length, 1)
  assert.equal(targets[0]!.Arn, shapedArn)
  assert.deepEqual(targets[0]!.RetryPolicy, {
    MaximumRetryAttempts: 3,
    MaximumEventAgeInSeconds: 600,
  })
  assert.deepEqual(targets[0]!.InputTransformer, {
    InputPathsMap: { order: '$.detail.orderId' },
    InputTemplate: '{"order": <order>, "rule": <aws.events.rule-name>}',
  })
})

test('the tail keeps a window of 500 rows, newest first, filtered by a pattern', async () => {
  await tailPage.getByTestId('tail-pattern').fill('{"source": ["load.test"]}')
  await tailPage.getByTestId('tail-apply').click()
  const a = client(EventBridgeClient, A)
  const TOTAL = 1200
  // Give the reopened stream time to subscribe: send a marker until the tail shows it.
  const marker = async () =>
    a.send(
      new PutEventsCommand({
        Entries: [{ Source: 'load.test', DetailType: 'marker', Detail: '{}' }],
      }),
    )
  const until = Date.now() + 60_000
  await marker()
  while (
    !(await tailPage
      .getByTestId('tail-rows')
      .getByText('marker')
      .first()
      .waitFor({ timeout: 2000 })
      .then(
        () => true,
        () => false,
      )) &&
    Date.now() < until
  )
    await marker()
  await tailPage.getByRole('button', { name: 'Clear' }).click()
  const before = Number(
    /^(\d+) received/.exec(await tailPage.getByTestId('tail-stats').innerText())![1],
  )
  await a.send(
    new PutEventsCommand({ Entries: [{ Source: 'not.load', DetailType: 'skip', Detail: '{}' }] }),
  )
  for (let i = 0; i < TOTAL; i += 10) {
    const Entries = Array.from({ length: 10 }, (_, k) => ({
      Source: 'load.test',
      DetailType: `n-${String(i + k)}`,
      Detail: '{}',
    }))
    await a.send(new PutEventsCommand({ Entries }))
  }
  await tailPage.waitForFunction(
    `(document.querySelector('[data-testid=tail-stats]')?.textContent ?? '').startsWith('${String(before + TOTAL)} received')`,
    null,
    { timeout: 60_000 },
  )
  assert.match(await tailPage.getByTestId('tail-stats').innerText(), /500 shown$/)
  const rows = tailPage.getByTestId('tail-rows').locator('tbody tr')
  assert.equal(await rows.count(), 500)
  assert.match(await rows.first().innerText(), new RegExp(`n-${String(TOTAL - 1)}\\b`))
  assert.match(await rows.last().innerText(), new RegExp(`n-${String(TOTAL - 500)}\\b`))
  assert.equal(await tailPage.getByTestId('tail-rows').getByText('skip').count(), 0)
  await shot(tailPage, 'tail-load')
})

test('a dead letter shows its reason, is redriven to its queue, and a queue is purged', async () => {
  const a = client(EventBridgeClient, A)
  const sqs = client(SQSClient, A)
  const put = await a.send(
    new PutEventsCommand({
      Entries: [{ Source: 'dlq.test', DetailType: 'late', Detail: '{"n":1}' }],
    }),
  )
  const eventId = put.Entries![0]!.EventId!
  const later = (await sqs.send(new CreateQueueCommand({ QueueName: 'later' }))).QueueUrl!

  await page.getByTestId('nav-queues').click()
  const dlqRow = page.getByTestId('queue-orders-dlq')
  await dlqRow.waitFor({ timeout: 20_000 })
  const until = Date.now() + 60_000
  while ((await dlqRow.getByTestId('available').innerText()) !== '1' && Date.now() < until) {
    await page.getByRole('button', { name: 'Refresh' }).click()
    await page.waitForTimeout(500)
  }
  await dlqRow.getByTestId('peek').click()
  const letter = page.getByTestId('messages').locator('article').first()
  await letter.waitFor({ timeout: 20_000 })
  assert.equal(
    await letter.getByTestId('reason').innerText(),
    `NO_RESOURCE: The queue arn:aws:sqs:${REGION}:${A.account}:later does not exist.`,
  )
  assert.match(await letter.innerText(), new RegExp(eventId))
  await shot(page, 'queues-dead-letter')
  await letter.getByTestId('redrive').click()
  const outcome = page.locator('[data-testid=queue-notice], [data-testid=error]').first()
  await outcome.waitFor({ timeout: 20_000 }).catch(async (e: unknown) => {
    await shot(page, 'queues-redrive-failed')
    throw e
  })
  assert.match(await outcome.innerText(), /sent back to later\.$/)

  const got = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: later, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }),
  )
  assert.equal(got.Messages?.length, 1)
  const event = JSON.parse(got.Messages[0]!.Body!) as { id: string; source: string }
  assert.equal(event.id, eventId)
  assert.equal(event.source, 'dlq.test')
  const left = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: (await sqs.send(new CreateQueueCommand({ QueueName: 'orders-dlq' }))).QueueUrl!,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  )
  assert.deepEqual(left.Attributes, {
    ApproximateNumberOfMessages: '0',
    ApproximateNumberOfMessagesNotVisible: '0',
  })

  // The flow map marks the rule whose target failed (FailedInvocations in /metrics).
  await page.getByTestId('nav-flow').click()
  await page.waitForFunction(
    `document.querySelector('[data-edge="to-later -> sqs: later"]')?.classList.contains('failing') === true`,
    null,
    { timeout: 30_000 },
  )
  assert.equal(
    await page.locator('[data-edge="to-later -> sqs: later"] text').textContent(),
    '1 (1 failed)',
  )
  assert.equal(
    await page.locator('[data-edge="orders-to-queue -> sqs: orders"]').getAttribute('class'),
    'edge',
  )
  await shot(page, 'flow-failing')

  // The shaped queue has the sandbox's events; purge it (the console asks first).
  await page.getByTestId('nav-queues').click()
  page.once('dialog', (d) => void d.accept())
  await page.getByTestId('queue-shaped').getByTestId('purge').click()
  await page.getByText('shaped purged.').waitFor({ timeout: 20_000 })
  const shapedLeft = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: shapedUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  )
  assert.equal(shapedLeft.Attributes?.ApproximateNumberOfMessages, '0')
})

test("another key switches to its account: B's rules, not A's", async () => {
  await page.getByRole('button', { name: 'Add a key' }).click()
  await page.getByTestId('access-key').fill(B.key)
  await page.getByTestId('secret-key').fill(B.secret)
  await page.getByTestId('sign-in-region').fill(REGION)
  await page.getByTestId('sign-in').click()
  await page.getByTestId('nav-rules').waitFor({ timeout: 20_000 })
  await page.getByTestId('nav-rules').click()
  await page.getByText('No rules on this bus.').waitFor({ timeout: 20_000 })
  assert.match(
    await page.getByTestId('account').locator('option:checked').innerText(),
    /^222222222222/,
  )
  await page.getByTestId('account').selectOption({ index: 0 })
  await page.getByTestId('rule-orders-to-queue').waitFor({ timeout: 20_000 })
})

test('a wrong secret is refused at sign-in with the server’s message, and nothing is kept', async () => {
  // A page of its own, outside the record of answers: this refusal is the point here.
  const wrong = await browser.newPage()
  await wrong.goto(`${server.url}/console/`)
  await wrong.getByTestId('access-key').fill(A.key)
  await wrong.getByTestId('secret-key').fill('not-the-secret')
  await wrong.getByTestId('sign-in').click()
  const error = wrong.getByTestId('sign-in-error')
  await error.waitFor({ timeout: 20_000 })
  assert.match(
    await error.innerText(),
    /^InvalidSignatureException: The request signature we calculated does not match/,
  )
  assert.equal(await wrong.evaluate('sessionStorage.length'), 0)
  await shot(wrong, 'sign-in-refused')
  await wrong.close()
})

test('no request the console made was refused', () => {
  assert.ok(answers.length > 10, `${String(answers.length)} requests recorded`)
  const refused = answers.filter(([status]) => status < 200 || status >= 300)
  assert.deepEqual(refused, [])
  // It went through the API and the tail, signed.
  assert.ok(answers.some(([, m, url]) => m === 'POST' && new URL(url).pathname === '/'))
  assert.ok(answers.some(([, , url]) => new URL(url).pathname === '/tail'))
})
