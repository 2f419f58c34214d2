/**
 * SigV4 verification against requests the real clients signed: every byte-exact capture in
 * `../shared/reference/wire-captures.md` §4 (AWS CLI v1 and v2, boto3 old and new, the JS SDK;
 * secret `testsecret`) verifies, and any change to what was signed, a wrong secret, an unknown
 * key, a stale date or a wrong service is refused with the problem named.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { verifySigV4, type SignedRequest } from '../../src/auth/sigv4.js'
import { sharedPath } from '../helpers/shared.js'

type Capture = { name: string; request: SignedRequest; signedAt: number }

/** The captures: request line, headers, blank line, body (as text: all are ASCII JSON). */
function captures(): Capture[] {
  const text = readFileSync(sharedPath('reference', 'wire-captures.md'), 'utf8')
  const out: Capture[] = []
  const block = /#### (\S+)\n\n```http\n([\s\S]*?)\n```/g
  for (const m of text.matchAll(block)) {
    const raw = m[2]!
    const split = raw.indexOf('\n\n')
    const head = split < 0 ? raw : raw.slice(0, split)
    const body = split < 0 ? '' : raw.slice(split + 2)
    const [requestLine, ...lines] = head.split('\n')
    const [method, url] = requestLine!.split(' ')
    const headers: Record<string, string> = {}
    for (const l of lines) {
      const colon = l.indexOf(':')
      headers[l.slice(0, colon).toLowerCase()] = l.slice(colon + 1).trim()
    }
    const d = headers['x-amz-date']!
    const signedAt = Date.UTC(
      +d.slice(0, 4),
      +d.slice(4, 6) - 1,
      +d.slice(6, 8),
      +d.slice(9, 11),
      +d.slice(11, 13),
      +d.slice(13, 15),
    )
    out.push({
      name: m[1]!,
      request: { method: method!, url: url!, headers, body: Buffer.from(body, 'utf8') },
      signedAt,
    })
  }
  return out
}

const secretOf = (key: string) => (key === 'AKIDEXAMPLE' ? 'testsecret' : undefined)
const all = captures()

describe('SigV4 verification of real clients’ requests', () => {
  test('the captures are there (14 signed requests from five clients)', () => {
    assert.equal(all.length, 14)
  })

  test('every capture verifies, with the key, region and service of its scope', () => {
    for (const c of all) {
      const r = verifySigV4(c.request, secretOf, c.signedAt + 60_000, 'events')
      assert.deepEqual(
        r,
        { ok: true, accessKeyId: 'AKIDEXAMPLE', region: 'us-east-1', service: 'events' },
        c.name,
      )
    }
  })

  test('a changed body, header, method or path does not verify', () => {
    for (const c of all) {
      const at = c.signedAt
      const changes: [string, SignedRequest][] = [
        ['body', { ...c.request, body: Buffer.concat([c.request.body, Buffer.from(' ')]) }],
        [
          'target',
          {
            ...c.request,
            headers: { ...c.request.headers, 'x-amz-target': 'AWSEvents.DeleteRule' },
          },
        ],
        ['method', { ...c.request, method: 'PUT' }],
        ['path', { ...c.request, url: '/other' }],
      ]
      for (const [what, req] of changes) {
        const r = verifySigV4(req, secretOf, at, 'events')
        assert.equal(r.ok ? 'ok' : r.problem, 'mismatch', `${c.name}: ${what}`)
      }
    }
  })

  test('a client’s x-amz-content-sha256 is checked against the body, not trusted', () => {
    const c = all.find((x) => x.request.headers['x-amz-content-sha256'] !== undefined)!

    const tampered = { ...c.request, body: Buffer.from('{"Entries":[]}') }
    const r = verifySigV4(tampered, secretOf, c.signedAt, 'events')
    assert.deepEqual(r.ok ? r : r.problem, 'mismatch')
    assert.ok(!r.ok && r.message.includes('x-amz-content-sha256'))
  })

  test('wrong secret, unknown key, wrong service, and 15 minutes of skew either way', () => {
    const c = all[0]!
    const r1 = verifySigV4(c.request, () => 'not-the-secret', c.signedAt, 'events')
    assert.equal(r1.ok ? 'ok' : r1.problem, 'mismatch')
    const r2 = verifySigV4(c.request, () => undefined, c.signedAt, 'events')
    assert.deepEqual(r2, {
      ok: false,
      problem: 'unknown-key',
      message: 'The security token included in the request is invalid.',
    })
    const r3 = verifySigV4(c.request, secretOf, c.signedAt, 'sqs')
    assert.equal(
      r3.ok ? 'ok' : r3.message,
      "Credential should be scoped to correct service: 'sqs'.",
    )
    assert.equal(verifySigV4(c.request, secretOf, c.signedAt + 15 * 60_000, 'events').ok, true)
    const late = verifySigV4(c.request, secretOf, c.signedAt + 15 * 60_000 + 1000, 'events')
    assert.equal(late.ok ? 'ok' : late.problem, 'expired')
    assert.match(
      late.ok ? '' : late.message,
      /^Signature expired: 20261129T\d{6}Z is now earlier than/,
    )
    const early = verifySigV4(c.request, secretOf, c.signedAt - 15 * 60_000 - 1000, 'events')
    assert.match(early.ok ? '' : early.message, /^Signature not yet current:/)
  })

  test('no signature, a malformed one, and SigV4a are refused as such', () => {
    const c = all[0]!
    const without = { ...c.request, headers: { ...c.request.headers } }
    delete without.headers.authorization
    const r = verifySigV4(without, secretOf, c.signedAt, 'events')
    assert.deepEqual(r, { ok: false, problem: 'missing', message: 'Missing Authentication Token' })
    const bad = {
      ...c.request,
      headers: {
        ...c.request.headers,
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/events/aws4_request',
      },
    }
    const r2 = verifySigV4(bad, secretOf, c.signedAt, 'events')
    assert.equal(r2.ok ? 'ok' : r2.problem, 'incomplete')
    assert.match(r2.ok ? '' : r2.message, /requires 'SignedHeaders', 'Signature' parameters/)
    const v4a = {
      ...c.request,
      headers: {
        ...c.request.headers,
        authorization:
          'AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20261129/events/aws4_request, SignedHeaders=host, Signature=00',
      },
    }
    const r3 = verifySigV4(v4a, secretOf, c.signedAt, 'events')
    assert.equal(r3.ok ? 'ok' : r3.problem, 'unsupported')
  })
})

describe('presigned query strings (the query protocol’s GET)', () => {
  /** Signs as the SigV4 guide describes, independently of the verifier's code paths. */
  function presign(url: URL, secret: string, at: Date, expires: number): string {
    const amzDate = at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')
    const date = amzDate.slice(0, 8)
    const scope = `${date}/us-east-1/sqs/aws4_request`
    const params: [string, string][] = [...url.searchParams.entries()]
    params.push(
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', `AKIDEXAMPLE/${scope}`],
      ['X-Amz-Date', amzDate],
      ['X-Amz-Expires', String(expires)],
      ['X-Amz-SignedHeaders', 'host'],
    )
    const enc = (s: string) =>
      encodeURIComponent(s).replace(
        /[!'()*]/g,
        (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
      )
    const query = params
      .map(([k, v]) => `${enc(k)}=${enc(v)}`)
      .sort()
      .join('&')
    const canonical = [
      'GET',
      url.pathname,
      query,
      `host:${url.host}\n`,
      'host',
      createHash('sha256').update('').digest('hex'),
    ].join('\n')
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`
    const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest()
    const key = h(h(h(h(`AWS4${secret}`, date), 'us-east-1'), 'sqs'), 'aws4_request')
    return `${url.pathname}?${query}&X-Amz-Signature=${createHmac('sha256', key).update(toSign).digest('hex')}`
  }

  const at = new Date(Date.UTC(2026, 11, 3, 12, 0, 0))
  const target = presign(
    new URL('http://127.0.0.1:4010/111111111111/jobs?Action=ReceiveMessage&MaxNumberOfMessages=5'),
    'testsecret',
    at,
    300,
  )
  const req = (url: string): SignedRequest => ({
    method: 'GET',
    url,
    headers: { host: '127.0.0.1:4010' },
    body: Buffer.alloc(0),
  })

  test('verifies within its expiry, not after it, and not when a parameter changed', () => {
    assert.equal(verifySigV4(req(target), secretOf, at.getTime() + 299_000, 'sqs').ok, true)
    const late = verifySigV4(req(target), secretOf, at.getTime() + 301_000, 'sqs')
    assert.deepEqual(late.ok ? 'ok' : [late.problem, late.message], [
      'url-expired',
      'Request has expired.',
    ])
    const changed = verifySigV4(
      req(target.replace('MaxNumberOfMessages=5', 'MaxNumberOfMessages=9')),
      secretOf,
      at.getTime(),
      'sqs',
    )
    assert.equal(changed.ok ? 'ok' : changed.problem, 'mismatch')
  })
})
