/**
 * While the server stops, every request is refused with a status the AWS SDKs retry, in its own
 * protocol: EventBridge's JSON, SQS's JSON 1.0 with its query-error header, or SQS's XML.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { createRequestListener } from '../../src/api/server.js'
import { createAuthenticator } from '../../src/auth/caller.js'
import { createBus, type Bus } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'

let bus: Bus
let server: Server
let url: string

before(async () => {
  bus = await createBus({ ...DEFAULTS, store: 'memory' })
  const listener = createRequestListener({
    services: bus.services,
    queues: bus.queues,
    authenticate: createAuthenticator({ account: '111111111111', region: 'us-east-1' }),
    metrics: bus.metrics,
    tail: bus.tail,
    log: bus.log,
    ready: () => false, // stopping
  })
  server = createServer(listener)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
})
after(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  await bus.close()
})

describe('requests while stopping', () => {
  test('SQS query protocol: an XML ServiceUnavailable, connection closed', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListQueues&Version=2012-11-05',
    })
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('content-type'), 'text/xml')
    assert.equal(res.headers.get('connection'), 'close')
    const text = await res.text()
    assert.match(text, /^<\?xml version="1.0"\?><ErrorResponse /)
    assert.match(text, /<Type>Receiver<\/Type><Code>ServiceUnavailable<\/Code>/)
    assert.match(text, /<RequestId>[0-9a-f-]{36}<\/RequestId>/)
  })

  test('SQS JSON protocol: the modelled shape and the query-error header', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSQS.ListQueues',
      },
      body: '{}',
    })
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.0')
    assert.equal(res.headers.get('x-amzn-query-error'), 'ServiceUnavailable;Receiver')
    const body = (await res.json()) as Record<string, unknown>
    assert.equal(body.__type, 'com.amazonaws.sqs#ServiceUnavailable')
  })

  test('EventBridge JSON 1.1: ServiceUnavailable as before', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.ListEventBuses',
      },
      body: '{}',
    })
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('x-amzn-errortype'), 'ServiceUnavailable')
    assert.equal(((await res.json()) as Record<string, unknown>).__type, 'ServiceUnavailable')
  })
})
