/**
 * The console's browser signer (console/src/aws/sigv4.ts, WebCrypto) checked against the
 * server's verifier: requests it signs verify in `verifySigV4` and are answered by a real
 * `junction serve --auth sigv4` on every route the console uses (EventBridge's JSON, SQS's JSON,
 * the `/tail` stream with a pattern in its query); a wrong secret or a changed body is refused.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { signRequest, type Credentials } from '../../console/src/aws/sigv4.js'
import { verifySigV4 } from '../../src/auth/sigv4.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

const ACCOUNT = '123456789012'
const KEY: Credentials = { accessKeyId: 'AKIDCONSOLE000000001', secretAccessKey: 'console-secret' }
const REGION = 'eu-central-1'

let server: ServerProcess

before(async () => {
  const dir = tempDir('junction-console-sigv4-')
  const file = join(dir, 'credentials')
  writeFileSync(
    file,
    `[console]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\naws_account_id = ${ACCOUNT}\n`,
  )
  server = await startServerProcess({ args: ['--auth', 'sigv4', '--credentials', file] })
})
after(async () => {
  await server.stop()
})

async function call(
  target: string,
  body: object,
  credentials = KEY,
  service = 'events',
): Promise<Response> {
  const url = new URL('/', server.url)
  const text = JSON.stringify(body)
  const json = service === 'sqs' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1'
  const { headers } = await signRequest(
    {
      method: 'POST',
      url,
      headers: { 'content-type': json, 'x-amz-target': target },
      body: text,
      region: REGION,
      service,
    },
    credentials,
  )
  return fetch(url, { method: 'POST', headers, body: text })
}

describe("the console's signer", () => {
  test('what it signs verifies in the server’s verifier, for the key, region and service', async () => {
    const url = new URL('http://localhost:4010/?b=2&a=x%20y&a=%2F')
    const body = '{"Name":"orders"}'
    const now = Date.UTC(2026, 0, 2, 3, 4, 5)
    const signed = await signRequest(
      {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.X' },
        body,
        region: REGION,
        service: 'events',
        now,
      },
      KEY,
    )
    const { headers } = signed
    assert.equal(headers['x-amz-date'], '20260102T030405Z')
    assert.equal(signed.url.search, '?a=%2F&a=x%20y&b=2')
    const secretOf = (k: string) => (k === KEY.accessKeyId ? KEY.secretAccessKey : undefined)
    const request = {
      method: 'POST',
      url: signed.url.pathname + signed.url.search,
      headers: { ...headers, host: url.host },
      body: Buffer.from(body),
    }
    assert.deepEqual(verifySigV4(request, secretOf, now, 'events'), {
      ok: true,
      accessKeyId: KEY.accessKeyId,
      region: REGION,
      service: 'events',
    })
    const changed = { ...request, body: Buffer.from('{"Name":"other"}') }
    assert.equal(verifySigV4(changed, secretOf, now, 'events').ok, false)
    const otherHost = { ...request, headers: { ...request.headers, host: 'localhost:4011' } }
    assert.equal(verifySigV4(otherHost, secretOf, now, 'events').ok, false)
  })

  test('EventBridge answers its signed calls, as the key’s account', async () => {
    const res = await call('AWSEvents.ListEventBuses', {})
    assert.equal(res.status, 200)
    const out = (await res.json()) as { EventBuses: { Arn: string }[] }
    assert.deepEqual(
      out.EventBuses.map((b) => b.Arn),
      [`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`],
    )
  })

  test('SQS answers its signed JSON calls', async () => {
    const res = await call('AmazonSQS.CreateQueue', { QueueName: 'signed' }, KEY, 'sqs')
    assert.equal(res.status, 200)
    const out = (await res.json()) as { QueueUrl: string }
    assert.match(out.QueueUrl, /\/123456789012\/signed$/)
  })

  test('a wrong secret is refused with the signature message', async () => {
    const res = await call('AWSEvents.ListEventBuses', {}, { ...KEY, secretAccessKey: 'wrong' })
    assert.equal(res.status, 403)
    const out = (await res.json()) as { __type: string; message: string }
    assert.match(out.message, /The request signature we calculated does not match/)
  })

  test('the /tail stream opens when signed, with a pattern in the query, and not unsigned', async () => {
    const url = new URL('/tail', server.url)
    url.searchParams.set('bus', 'default')
    url.searchParams.set('pattern', '{"source": ["a b", "c*d"], "detail": {"n": [1]}}')
    const signed = await signRequest(
      { method: 'GET', url, headers: {}, body: '', region: REGION, service: 'events' },
      KEY,
    )
    const abort = new AbortController()
    const res = await fetch(signed.url, { headers: signed.headers, signal: abort.signal })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const reader = res.body!.getReader()
    const first = await reader.read()
    assert.match(
      new TextDecoder().decode(first.value as Uint8Array),
      new RegExp(`^: tailing arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`),
    )
    abort.abort()
    await reader.cancel().catch(() => undefined)
    const unsigned = await fetch(url)
    assert.equal(unsigned.status, 403)
    await unsigned.body?.cancel()
  })
})
