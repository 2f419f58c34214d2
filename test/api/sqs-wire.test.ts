/**
 * The SQS front door in this process, for what the client end-to-end tests cannot send: names
 * that are object-prototype properties, malformed queue URLs, control characters in attribute
 * values, bad input that must not take messages, and a query POST to a queue URL.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'

let server: RunningServer

const json = async (action: string, body: unknown) => {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
    },
    body: JSON.stringify(body),
  })
  return {
    status: res.status,
    queryError: res.headers.get('x-amzn-query-error'),
    body: (await res.json()) as Record<string, unknown>,
  }
}

const query = async (path: string, params: Record<string, string>) => {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams(params).toString(),
  })
  return { status: res.status, text: await res.text() }
}

before(async () => {
  server = await startServer({ ...DEFAULTS, port: 0, store: 'memory', logLevel: 'silent' })
})
after(async () => {
  await server.close()
})

describe('SQS front door', () => {
  test('object-prototype names are no actions, in either protocol', async () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const j = await json(name, {})
      assert.equal(j.status, 400, name)
      assert.equal(j.body.__type, 'com.amazon.coral.service#UnknownOperationException')
      const q = await query('/', { Action: name })
      assert.equal(q.status, 400, name)
      assert.match(q.text, /<Code>InvalidAction<\/Code>/)
    }
  })

  test('a queue URL with a broken escape is InvalidAddress (404), not an internal error', async () => {
    const r = await json('GetQueueAttributes', {
      QueueUrl: 'http://localhost/000000000000/q%E0%A4%A',
    })
    assert.equal(r.status, 404)
    assert.equal(r.queryError, 'InvalidAddress;Sender')
  })

  test('control characters in an attribute value are refused (they would break XML receivers)', async () => {
    const { body } = await json('CreateQueue', { QueueName: 'chars' })
    const r = await json('SendMessage', {
      QueueUrl: body.QueueUrl,
      MessageBody: 'x',
      MessageAttributes: { a: { DataType: 'String', StringValue: 'bad\u0001' } },
    })
    assert.equal(r.status, 400)
    assert.equal(r.queryError, 'InvalidMessageContents;Sender')
  })

  test('an attribute named __proto__ is an attribute like any other', async () => {
    const { body } = await json('CreateQueue', { QueueName: 'proto' })
    const sent = await json(
      'SendMessage',
      JSON.parse(
        `{"QueueUrl":${JSON.stringify(body.QueueUrl)},"MessageBody":"x","MessageAttributes":{"__proto__":{"DataType":"String","StringValue":"v"}}}`,
      ),
    )
    assert.equal(sent.status, 200)
    assert.equal(typeof sent.body.MD5OfMessageAttributes, 'string')
    const got = await json('ReceiveMessage', {
      QueueUrl: body.QueueUrl,
      MessageAttributeNames: ['All'],
    })
    const [m] = got.body.Messages as { MessageAttributes: Record<string, unknown> }[]
    assert.deepEqual(Object.keys(m!.MessageAttributes), ['__proto__'])
  })

  test('a receive with bad input takes no message', async () => {
    const { body } = await json('CreateQueue', { QueueName: 'untouched' })
    await json('SendMessage', { QueueUrl: body.QueueUrl, MessageBody: 'x' })
    const bad = await json('ReceiveMessage', { QueueUrl: body.QueueUrl, AttributeNames: 'All' })
    assert.equal(bad.status, 400)
    const attrs = await json('GetQueueAttributes', {
      QueueUrl: body.QueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    })
    assert.deepEqual(attrs.body.Attributes, {
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '0',
    })
  })

  test('a query POST to the queue URL itself names the queue; \\r survives the XML', async () => {
    await json('CreateQueue', { QueueName: 'by-path' })
    const sent = await query('/000000000000/by-path', {
      Action: 'SendMessage',
      MessageBody: 'a\r\nb',
    })
    assert.equal(sent.status, 200, sent.text)
    const got = await query('/000000000000/by-path', { Action: 'ReceiveMessage' })
    assert.match(got.text, /<Body>a&#xD;\nb<\/Body>/)
  })
})
