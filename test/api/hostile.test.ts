/**
 * Hostile input at the front door: a client trickling its headers is cut off while others are
 * answered; a body announced over the limit is refused before it is read and the connection
 * closed; deeply nested and oddly encoded JSON gets an answer, and the server stays up.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'

let running: RunningServer
let port: number

before(async () => {
  running = await startServer({
    ...DEFAULTS,
    port: 0,
    store: 'memory',
    logLevel: 'silent',
    headersTimeoutMs: 600,
  })
  port = Number(new URL(running.url).port)
})
after(async () => {
  await running.close()
})

const call = (target: string, body: unknown) =>
  fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body: JSON.stringify(body),
  })

/** Opens a raw connection, writes `text`, and collects what comes back until it closes. */
function raw(text: string): { closed: Promise<{ data: string; afterMs: number }> } {
  const started = Date.now()
  const socket = connect(port, '127.0.0.1')
  let data = ''
  socket.on('data', (c: Buffer) => (data += c.toString()))
  socket.write(text)
  return {
    closed: new Promise((resolve) => {
      socket.on('close', () => resolve({ data, afterMs: Date.now() - started }))
      socket.on('error', () => undefined)
    }),
  }
}

describe('hostile input', () => {
  test('a client that never finishes its headers is cut off; others are answered meanwhile', async () => {
    const slow = raw('POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSEvents.ListEventBuses\r\n')
    const res = await call('AWSEvents.ListEventBuses', {})
    assert.equal(res.status, 200)
    const { data, afterMs } = await slow.closed
    assert.match(data, /^HTTP\/1\.1 408/)
    assert.ok(afterMs < 5000, `closed after ${String(afterMs)} ms`)
  })

  test('a body announced over the limit is refused unread, and the connection closes', async () => {
    const big = raw(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n' +
        'X-Amz-Target: AWSEvents.PutEvents\r\nContent-Length: 100000000\r\n\r\n{"Entries":[',
    )
    const { data } = await big.closed
    assert.match(data, /^HTTP\/1\.1 400/)
    assert.match(data, /connection: close/i)
    assert.match(
      data,
      /"__type":"ValidationException","message":"Request size exceeds the limit\."/,
    )
  })

  test('deeply nested Detail, lone surrogates and invalid UTF-8 get answers; the server stays up', async () => {
    await call('AWSEvents.PutRule', {
      Name: 'deep',
      EventPattern: JSON.stringify({ detail: { a: [{ exists: true }] } }),
    })
    const depth = 100_000
    const deep = await call('AWSEvents.PutEvents', {
      Entries: [
        { Source: 's', DetailType: 't', Detail: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` },
      ],
    })
    assert.equal(deep.status, 200)
    assert.equal(((await deep.json()) as { FailedEntryCount: number }).FailedEntryCount, 0)
    const surrogate = await call('AWSEvents.PutEvents', {
      Entries: [{ Source: 's', DetailType: 't', Detail: '{"a":"\udc00"}' }],
    })
    assert.equal(surrogate.status, 200)
    const invalid = await fetch(running.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.ListEventBuses',
      },
      body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    })
    assert.equal(invalid.status, 400)
    assert.equal(((await invalid.json()) as { __type: string }).__type, 'SerializationException')
    const health = await fetch(`${running.url}/health`)
    assert.equal(health.status, 200)
  })
})

describe('header injection through stored parameters', () => {
  test('CR/LF in connection keys, values and invocation headers, or in target headers, is refused', async () => {
    const { createTestBus } = await import('../helpers/in-process.js')
    const bus = await createTestBus()
    try {
      const connections = [
        { ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'k\r\nX-Injected: 1' } },
        { ApiKeyAuthParameters: { ApiKeyName: 'x-key\r\nX-Injected', ApiKeyValue: 'k' } },
        {
          ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'k' },
          InvocationHttpParameters: {
            HeaderParameters: [{ Key: 'h', Value: 'v\r\nX-Injected: 1', IsValueSecret: false }],
          },
        },
      ]
      for (const [i, AuthParameters] of connections.entries())
        await assert.rejects(
          bus.call('CreateConnection', {
            Name: `c${String(i)}`,
            AuthorizationType: 'API_KEY',
            AuthParameters,
          }),
          { name: 'ValidationException' },
        )
      await bus.call('PutRule', { Name: 'r', EventPattern: '{"source":["a"]}' })
      await assert.rejects(
        bus.call('PutTargets', {
          Rule: 'r',
          Targets: [
            {
              Id: 't',
              Arn: 'arn:aws:events:us-east-1:111111111111:api-destination/d/0',
              HttpParameters: { HeaderParameters: { 'x-h': 'v\r\nX-Injected: 1' } },
            },
          ],
        }),
        { name: 'ValidationException' },
      )
      assert.deepEqual((await bus.call('ListConnections', {})).Connections, [])
    } finally {
      await bus.close()
    }
  })
})
