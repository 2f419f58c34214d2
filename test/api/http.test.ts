/**
 * The HTTP front door in this process: health, metrics, the tail stream (and the `junction tail`
 * command reading it), and AWS-style answers to malformed requests.
 */
import assert from 'node:assert/strict'
import { request, type IncomingMessage } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { tail } from '../../src/cli/commands/tail.js'
import { DEFAULTS } from '../../src/config.js'

let server: RunningServer
const AUTH =
  'AWS4-HMAC-SHA256 Credential=111111111111/20260101/eu-west-1/events/aws4_request, SignedHeaders=host, Signature=x'

async function call(operation: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${operation}`,
      authorization: AUTH,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  }
}

before(async () => {
  server = await startServer({ ...DEFAULTS, port: 0, store: 'memory', logLevel: 'silent' })
})
after(async () => {
  await server.close()
})

describe('HTTP front door', () => {
  test('health answers 200 once listening', async () => {
    const res = await fetch(`${server.url}/health`)
    assert.equal(res.status, 200)
  })

  test('the account comes from the access key and the region from the credential scope', async () => {
    const r = await call('DescribeEventBus', {})
    assert.equal(r.status, 200)
    assert.equal(r.body.Arn, 'arn:aws:events:eu-west-1:111111111111:event-bus/default')
    assert.match(r.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/)
  })

  test('an unknown operation, a bad body and a wrong member type get AWS error shapes', async () => {
    const unknown = await call('NoSuchThing', {})
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.__type, 'UnknownOperationException')
    assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException')
    const bad = await call('ListRules', '{not json')
    assert.equal(bad.status, 400)
    assert.equal(bad.body.__type, 'SerializationException')
    const wrongType = await call('DescribeRule', { Name: 5 })
    assert.equal(wrongType.body.__type, 'SerializationException')
    const missing = await call('DescribeRule', {})
    assert.equal(missing.body.__type, 'ValidationException')
    assert.equal(
      missing.body.message,
      "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
    )
  })

  test('tail streams the events of a bus with the rules they matched, filtered by a pattern', async () => {
    await call('CreateEventBus', { Name: 'tailed' })
    await call('PutRule', {
      Name: 'big',
      EventBusName: 'tailed',
      EventPattern: '{"detail":{"n":[{"numeric":[">",5]}]}}',
    })
    const lines: string[] = []
    const controller = new AbortController()
    const res = await fetch(
      `${server.url}/tail?bus=tailed&account=111111111111&region=eu-west-1&pattern=${encodeURIComponent('{"source":["keep"]}')}`,
      {
        signal: controller.signal,
      },
    )
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const reading = (async () => {
      const decoder = new TextDecoder()
      for await (const chunk of res.body!) {
        for (const l of decoder.decode(chunk as Uint8Array).split('\n'))
          if (l.startsWith('data: ')) lines.push(l.slice(6))
        if (lines.length >= 2) break
      }
    })()
    const entry = (source: string, n: number) => ({
      Source: source,
      DetailType: 't',
      Detail: JSON.stringify({ n }),
      EventBusName: 'tailed',
    })
    await call('PutEvents', { Entries: [entry('keep', 9), entry('drop', 9), entry('keep', 1)] })
    await reading
    controller.abort()
    const got = lines.map(
      (l) => JSON.parse(l) as { event: { source: string; detail: { n: number } }; rules: string[] },
    )
    assert.deepEqual(
      got.map((g) => [g.event.source, g.event.detail.n, g.rules]),
      [
        ['keep', 9, ['big']],
        ['keep', 1, []],
      ],
    )
  })

  test('a tail reader that falls behind loses whole events, counted, and the server does not buffer them all', async () => {
    await call('CreateEventBus', { Name: 'flooded' })
    // A reader that reads nothing until the puts are done: 24 MB of events against 8 MB of room.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${server.url}/tail?bus=flooded&account=111111111111&region=eu-west-1`)
      req.on('response', resolve).on('error', reject).end()
    })
    assert.equal(res.statusCode, 200)
    res.pause()
    const filler = 'x'.repeat(10_000)
    const total = 2_400
    for (let i = 0; i < total; i += 10) {
      const r = await call('PutEvents', {
        Entries: Array.from({ length: 10 }, (_, k) => ({
          Source: 'flood',
          DetailType: 't',
          Detail: JSON.stringify({ n: i + k, filler }),
          EventBusName: 'flooded',
        })),
      })
      assert.equal(r.body.FailedEntryCount, 0)
    }
    let text = ''
    res.setEncoding('utf8')
    res.on('data', (c: string) => (text += c))
    res.resume()
    const count = () => {
      const data = text.split('\n').filter((l) => l.startsWith('data: '))
      const dropped = [...text.matchAll(/^: dropped (\d+) events/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      )
      return { data, dropped }
    }
    for (let i = 0; i < 500 && count().data.length + count().dropped < total; i++)
      await new Promise((r) => setTimeout(r, 20))
    res.destroy()
    const { data, dropped } = count()
    assert.ok(dropped > 0, 'some events were dropped')
    assert.equal(data.length + dropped, total)
    // Every line that arrived is one whole event, in order.
    const ns = data.map(
      (l) => (JSON.parse(l.slice(6)) as { event: { detail: { n: number } } }).event.detail.n,
    )
    assert.deepEqual(
      ns,
      [...ns].sort((a, b) => a - b),
    )
  })

  test('junction tail prints each event as one JSON line; a bad pattern exits 2', async () => {
    const lines: string[] = []
    const controller = new AbortController()
    const done = tail(
      {
        bus: 'tailed',
        endpoint: server.url,
        account: '111111111111',
        region: 'eu-west-1',
        signal: controller.signal,
      },
      (l) => {
        lines.push(l)
      },
    )
    await new Promise((r) => setTimeout(r, 100))
    await call('PutEvents', {
      Entries: [{ Source: 's', DetailType: 't', Detail: '{}', EventBusName: 'tailed' }],
    })
    for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal((JSON.parse(lines[0]!) as { event: { source: string } }).event.source, 's')
    controller.abort()
    assert.equal(await done, 0)
    const bad = await tail(
      {
        bus: 'tailed',
        pattern: '{"source":"x"}',
        endpoint: server.url,
        account: '111111111111',
        region: 'eu-west-1',
      },
      () => undefined,
    )
    assert.equal(bad, 2)
    const missing = await fetch(`${server.url}/tail?bus=nope`)
    assert.equal(missing.status, 404)
  })

  test('metrics use EventBridge names, labelled by bus and rule', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text()
    // Both events with n = 9 matched "big"; the tail filter does not change routing.
    assert.match(text, /^MatchedEvents\{EventBusName="tailed"\} 2$/m)
    assert.match(text, /^TriggeredRules\{EventBusName="tailed",RuleName="big"\} 2$/m)
    assert.match(text, /^# TYPE IngestionToInvocationStartLatency histogram$/m)
  })
})

test('a PutEvents Time no date can hold is refused as a bad request, not a server fault', async () => {
  for (const Time of [1e20, '9999999999999', -1e16]) {
    const r = await call('PutEvents', {
      Entries: [{ Source: 's', DetailType: 't', Detail: '{}', Time }],
    })
    assert.equal(r.status, 400, String(Time))
    assert.equal(r.body.__type, 'SerializationException')
  }
  const ok = await call('PutEvents', {
    Entries: [{ Source: 's', DetailType: 't', Detail: '{}', Time: 1700000000.5 }],
  })
  assert.equal(ok.status, 200)
})
