/**
 * `junction migrate`: a single-node SQLite deployment with a rule, an archive, and deliveries
 * still owed (its target refused them) is stopped and copied into an empty NATS store; a node
 * started on NATS then has the configuration, the archive's events, the queue's messages, and
 * delivers what was owed. A function's package travels too: the node runs it after the SQLite
 * directory is gone.
 * A second copy into the same NATS is refused, and so is a copy while the SQLite server runs.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { call, closeEventLoad, configure, SOURCE, sqs, startSink } from '../helpers/event-load.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

const MAIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'src/cli/main.ts')
const run = promisify(execFile)

let nats: NatsServer | undefined
const servers: ServerProcess[] = []
const dirs: string[] = []

after(async () => {
  await closeEventLoad()
  for (const s of servers)
    if (s.child.exitCode === null && s.child.signalCode === null) await s.kill()
  await nats?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const LAMBDA_AUTH =
  'AWS4-HMAC-SHA256 Credential=111111111111/20261205/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0'

/** A zip made by Python's zipfile (not by the code under test) holding one handler. */
function handlerZip(source: string): string {
  const work = tempDir('junction-fn-')
  dirs.push(work)
  writeFileSync(join(work, 'index.mjs'), source)
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'fn.zip', 'index.mjs'], { cwd: work })
  return readFileSync(join(work, 'fn.zip')).toString('base64')
}

async function migrate(data: string, url: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [
      '--import',
      'tsx',
      MAIN,
      'migrate',
      '--data',
      data,
      '--nats-url',
      url,
    ])
    return { code: 0, out: r.stdout + r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, out: err.stdout + err.stderr }
  }
}

test('a stopped SQLite store copied into NATS: configuration, archive, queue messages and owed deliveries', async () => {
  nats = await startNatsServer()
  const data = tempDir('junction-migrate-')
  dirs.push(data)
  let accept = false
  const sink = await startSink({ status: () => (accept ? 200 : 500) })
  const single = await startServerProcess({ dataDir: data })
  servers.push(single)
  await configure(single.url, sink.url)
  await call(single.url, 'CreateArchive', {
    ArchiveName: 'everything',
    EventSourceArn: 'arn:aws:events:us-east-1:111111111111:event-bus/default',
  })
  const ids: string[] = []
  for (let i = 0; i < 20; i++) {
    const out = await call(single.url, 'PutEvents', {
      Entries: [{ Source: SOURCE, DetailType: 'crash', Detail: JSON.stringify({ seq: i }) }],
    })
    ids.push((out.Entries as { EventId: string }[])[0]!.EventId)
  }
  const fn = await fetch(`${single.url}/2015-03-31/functions`, {
    method: 'POST',
    headers: { authorization: LAMBDA_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({
      FunctionName: 'echo',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::111111111111:role/any',
      Handler: 'index.handler',
      Code: { ZipFile: handlerZip('export const handler = async (e) => ({ echoed: e })\n') },
    }),
  })
  assert.equal(fn.status, 201, await fn.text())
  // A queue with messages waiting: one received once and not deleted, one delayed.
  const { QueueUrl } = (await sqs(single.url, 'CreateQueue', {
    QueueName: 'waiting',
    Attributes: { VisibilityTimeout: '1' },
    tags: { team: 'a' },
  })) as { QueueUrl: string }
  const path = new URL(QueueUrl).pathname
  const sent: string[] = []
  for (const [body, delay] of [
    ['first', 0],
    ['second', 0],
    ['later', 2],
  ] as const) {
    const r = await sqs(single.url, 'SendMessage', {
      QueueUrl,
      MessageBody: body,
      DelaySeconds: delay,
      MessageAttributes: { n: { DataType: 'String', StringValue: body } },
    })
    sent.push(r.MessageId as string)
  }
  const taken = await sqs(single.url, 'ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 1 })
  const takenId = (taken.Messages as { MessageId: string }[])[0]!.MessageId
  // Each was tried once and refused: all twenty are owed.
  while ([...sink.counts.values()].length < 20) await sleep(20)

  const running = await migrate(data, nats.url)
  assert.equal(running.code, 1, 'refused while the server holds its data directory')
  assert.match(running.out, /in use|locked|another/i)

  await single.stop()
  const first = await migrate(data, nats.url)
  assert.equal(first.code, 0, first.out)
  assert.match(first.out, /delivery jobs owed: 20\n/)
  assert.match(first.out, /function packages: 1\n/)
  assert.match(first.out, /archive everything \(111111111111, us-east-1\): 20 events/)
  assert.match(first.out, /queue waiting \(111111111111, us-east-1\): 3 messages/)
  const again = await migrate(data, nats.url)
  assert.equal(again.code, 1)
  assert.match(again.out, /already holds a configuration/)

  accept = true
  // The single node's machine is gone: what the nodes run comes from NATS alone.
  rmSync(data, { recursive: true, force: true })
  const node = await startServerProcess({
    dataDir: tempDir('junction-migrated-'),
    args: ['--store', 'nats', '--nats-url', nats.url],
  })
  servers.push(node)
  const rules = (await call(node.url, 'ListRules', {})).Rules as { Name: string }[]
  assert.ok(rules.some((r) => r.Name === 'crash-rule'))
  const archive = await call(node.url, 'DescribeArchive', { ArchiveName: 'everything' })
  assert.equal(archive.EventCount, 20)
  const invoked = await fetch(`${node.url}/2015-03-31/functions/echo/invocations`, {
    method: 'POST',
    headers: { authorization: LAMBDA_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ n: 7 }),
  })
  assert.equal(invoked.status, 200)
  assert.deepEqual(await invoked.json(), { echoed: { n: 7 } })
  // The queue, its tags and its messages, each with its id, body, attributes and receive count.
  const tags = await sqs(node.url, 'ListQueueTags', { QueueUrl: `${node.url}${path}` })
  assert.deepEqual(tags.Tags, { team: 'a' })
  const received = new Map<string, { Body: string; Attributes: Record<string, string> }>()
  for (let i = 0; received.size < 3; i++) {
    assert.ok(i < 30, `received only ${String(received.size)} of the queue's messages`)
    const out = await sqs(node.url, 'ReceiveMessage', {
      QueueUrl: `${node.url}${path}`,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    })
    for (const m of (out.Messages ?? []) as {
      MessageId: string
      Body: string
      Attributes: Record<string, string>
      MessageAttributes: Record<string, { StringValue: string }>
    }[]) {
      assert.equal(m.MessageAttributes.n?.StringValue, m.Body)
      received.set(m.MessageId, m)
    }
  }
  assert.deepEqual([...received.keys()].sort(), [...sent].sort())
  assert.deepEqual([...received.values()].map((m) => m.Body).sort(), ['first', 'later', 'second'])
  for (const [id, m] of received)
    assert.equal(m.Attributes.ApproximateReceiveCount, id === takenId ? '2' : '1')
  // Owed deliveries wait for their retry time (backoff), then arrive.
  assert.deepEqual(await sink.waitForDelivered(ids, 120_000), [])
})
