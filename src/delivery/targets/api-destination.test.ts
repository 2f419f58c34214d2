import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, beforeEach, describe, it } from 'node:test'

import { ManualClock } from '../../clock.js'
import {
  DEFAULT_RETRY_POLICY,
  type ApiDestination,
  type Connection,
  type ConnectionAuth,
  type ConnectionHttpParameters,
  type ConnectionState,
  type HttpMethod,
  type HttpParameters,
  type Target,
} from '../../model.js'
import type { Invocation, InvocationResult } from './adapter.js'
import { createApiDestinationAdapter, type ApiDestinationDirectory } from './api-destination.js'

// ---------------------------------------------------------------------------------------------
// A real HTTP server: each request is recorded, then answered by the handler of its path.

type Seen = {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: string
}
type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang'
type Handler = (req: Seen) => Reply

let server: Server
let base = ''
let seen: Seen[] = []
let handlers = new Map<string, Handler>()
const hanging: ServerResponse[] = []

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const s: Seen = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      seen.push(s)
      const handler = handlers.get(url.pathname)
      const reply: Reply = handler ? handler(s) : { status: 200 }
      if (reply === 'hang') {
        hanging.push(res)
        return
      }
      res.writeHead(reply.status, reply.headers)
      res.end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
})

after(async () => {
  for (const r of hanging) r.destroy()
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

beforeEach(() => {
  seen = []
  handlers = new Map()
})

const hits = (path: string) => seen.filter((s) => s.path === path)

/** The result as a failure. (A bare failing `assert.ok` can hang under tsx: node re-parses the
 * transpiled one-line source to quote the expression.) */
function failure(r: InvocationResult): Extract<InvocationResult, { outcome: 'failed' }> {
  if (r.outcome !== 'failed') assert.fail(`expected a failure, got ${JSON.stringify(r)}`)
  return r
}

// ---------------------------------------------------------------------------------------------
// An in-memory directory of destinations and connections.

const REGION = 'us-east-1'
const ACCOUNT = '123456789012'
const connArn = (name: string) =>
  `arn:aws:events:${REGION}:${ACCOUNT}:connection/${name}/11111111-2222-3333-4444-555555555555`
const destArn = (name: string) =>
  `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/${name}/66666666-7777-8888-9999-000000000000`

const noParams = (): ConnectionHttpParameters => ({ headers: [], queryString: [], body: [] })
const param = (key: string, value: string) => ({ key, value, isValueSecret: false })

type StateChange = {
  arn: string
  state: ConnectionState
  reason: string | undefined
  at: number | undefined
}

class Directory implements ApiDestinationDirectory {
  destinations = new Map<string, ApiDestination>()
  connections = new Map<string, Connection>()
  changes: StateChange[] = []

  apiDestination(arn: string) {
    return this.destinations.get(arn)
  }
  connection(arn: string) {
    return this.connections.get(arn)
  }
  setConnectionState(
    arn: string,
    state: ConnectionState,
    reason: string | undefined,
    at: number | undefined,
  ) {
    this.changes.push({ arn, state, reason, at })
    const c = this.connections.get(arn)
    if (!c) return
    c.state = state
    if (reason === undefined) delete c.stateReason
    else c.stateReason = reason
    if (at !== undefined) c.lastAuthorizedAt = at
  }

  addConnection(
    name: string,
    auth: ConnectionAuth,
    invocationHttpParameters = noParams(),
    state: ConnectionState = 'AUTHORIZED',
  ): Connection {
    const c: Connection = {
      name,
      arn: connArn(name),
      account: ACCOUNT,
      region: REGION,
      auth,
      invocationHttpParameters,
      state,
      secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:events!connection/${name}`,
      createdAt: 0,
      modifiedAt: 0,
    }
    this.connections.set(c.arn, c)
    return c
  }

  addDestination(
    name: string,
    connection: Connection,
    endpoint: string,
    httpMethod: HttpMethod = 'POST',
    invocationRateLimitPerSecond = 300,
  ): ApiDestination {
    const d: ApiDestination = {
      name,
      arn: destArn(name),
      account: ACCOUNT,
      region: REGION,
      connectionArn: connection.arn,
      invocationEndpoint: endpoint,
      httpMethod,
      invocationRateLimitPerSecond,
      createdAt: 0,
      modifiedAt: 0,
    }
    this.destinations.set(d.arn, d)
    return d
  }
}

const envelope = {
  version: '0',
  id: 'e-1',
  'detail-type': 'OrderPlaced',
  source: 'shop',
  account: ACCOUNT,
  time: '2026-01-01T00:00:00Z',
  region: REGION,
  resources: [],
  detail: { x: 'from-event', n: 42, nested: { a: 1 } },
}

function invocation(arn: string, httpParameters?: HttpParameters, body?: string): Invocation {
  const text = JSON.stringify(envelope)
  const target: Target = {
    id: 't1',
    arn,
    input: { kind: 'event' },
    retryPolicy: DEFAULT_RETRY_POLICY,
    spec: {},
  }
  if (httpParameters) target.httpParameters = httpParameters
  return {
    event: { id: 'e-1', busArn: 'bus', text, ingestedAt: 0, hops: 0 },
    envelope,
    rule: {
      name: 'r',
      arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/r`,
      busName: 'default',
      account: ACCOUNT,
      region: REGION,
      state: 'ENABLED',
      createdBy: ACCOUNT,
    },
    target,
    body: body ?? text,
    attempt: 1,
  }
}

function setup() {
  const clock = new ManualClock()
  const directory = new Directory()
  const adapter = createApiDestinationAdapter({ directory, clock })
  return { clock, directory, adapter }
}

const basic: ConnectionAuth = { type: 'BASIC', username: 'user', password: 'p@ss:word' }

function oauth(params = noParams()): ConnectionAuth {
  return {
    type: 'OAUTH_CLIENT_CREDENTIALS',
    authorizationEndpoint: `${base}/oauth/token`,
    httpMethod: 'POST',
    clientId: 'client-1',
    clientSecret: 'secret-1',
    oauthHttpParameters: params,
  }
}

/** Token endpoint handing out tok-1, tok-2, …; the API accepts only the newest token. */
function tokenServer(expiresIn?: number) {
  let issued = 0
  handlers.set('/oauth/token', () => {
    issued++
    const body: Record<string, unknown> = {
      access_token: `tok-${String(issued)}`,
      token_type: 'bearer',
    }
    if (expiresIn !== undefined) body.expires_in = expiresIn
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }
  })
  handlers.set('/api', (req) =>
    req.headers.authorization === `Bearer tok-${String(issued)}`
      ? { status: 200 }
      : { status: 401 },
  )
}

// ---------------------------------------------------------------------------------------------

describe('API destination adapter', () => {
  it('accepts API destination ARNs only', () => {
    const { adapter } = setup()
    assert.equal(adapter.kind, 'api-destination')
    assert.equal(adapter.accepts(destArn('d')), true)
    assert.equal(adapter.accepts(`arn:aws:events:${REGION}:${ACCOUNT}:api-destination/d`), false)
    assert.equal(adapter.accepts(connArn('c')), false)
    assert.equal(adapter.accepts(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/b`), false)
    assert.equal(adapter.accepts(`arn:aws:sqs:${REGION}:${ACCOUNT}:api-destination/d/u`), false)
  })

  it('sends the transformed input with Basic auth and the headers EventBridge adds', async () => {
    const { directory, adapter } = setup()
    const conn = directory.addConnection('c', basic)
    const dest = directory.addDestination('d', conn, `${base}/hook`)
    const result = await adapter.invoke(invocation(dest.arn, undefined, '{"hello":"world"}'))
    assert.deepEqual(result, { outcome: 'delivered' })
    assert.equal(seen.length, 1)
    const req = seen[0]!
    assert.equal(req.method, 'POST')
    assert.equal(req.path, '/hook')
    assert.equal(req.body, '{"hello":"world"}')
    const expected = `Basic ${Buffer.from('user:p@ss:word').toString('base64')}`
    assert.equal(req.headers.authorization, expected)
    assert.equal(req.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(req.headers['user-agent'], 'Amazon/EventBridge/ApiDestinations')
    assert.equal(req.headers.range, 'bytes=0-1048575')
    assert.equal(req.headers.connection, 'keep-alive')
  })

  it('sends the API key in the header the connection names', async () => {
    const { directory, adapter } = setup()
    const conn = directory.addConnection('k', {
      type: 'API_KEY',
      apiKeyName: 'x-api-key',
      apiKeyValue: 'k3y',
    })
    const dest = directory.addDestination('d', conn, `${base}/hook`, 'PUT')
    assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
    assert.equal(seen[0]!.method, 'PUT')
    assert.equal(seen[0]!.headers['x-api-key'], 'k3y')
    assert.equal(seen[0]!.headers.authorization, undefined)
  })

  it('fills path wildcards and adds query and header parameters, static and dynamic', async () => {
    const { directory, adapter } = setup()
    const conn = directory.addConnection('c', basic)
    const dest = directory.addDestination('d', conn, `${base}/orders/*/items/*?fixed=1`)
    const params: HttpParameters = {
      pathParameterValues: ['$.detail.x', 'a b/c'],
      queryStringParameters: { q: '$.detail.n', plain: 'v' },
      headerParameters: {
        'X-Detail': '$.detail.nested',
        'X-Static': 'static',
        'X-Missing': '$.detail.nope',
      },
    }
    assert.deepEqual(await adapter.invoke(invocation(dest.arn, params)), { outcome: 'delivered' })
    const req = seen[0]!
    assert.equal(req.path, '/orders/from-event/items/a%20b%2Fc')
    assert.equal(req.query.get('fixed'), '1')
    assert.equal(req.query.get('q'), '42')
    assert.equal(req.query.get('plain'), 'v')
    assert.equal(req.headers['x-detail'], '{"a":1}')
    assert.equal(req.headers['x-static'], 'static')
    assert.equal(req.headers['x-missing'], '')
  })

  it('lets connection parameters win over target parameters, and merges body parameters', async () => {
    const { directory, adapter } = setup()
    const conn = directory.addConnection('c', basic, {
      headers: [
        param('X-Tenant', 'from-connection'),
        param('Content-Type', 'application/cloudevents+json'),
      ],
      queryString: [param('tenant', 'from-connection')],
      body: [param('tenant', 'from-connection'), param('extra', 'e')],
    })
    const dest = directory.addDestination('d', conn, `${base}/hook`)
    const params: HttpParameters = {
      headerParameters: { 'x-tenant': 'from-target', 'X-Other': 'o' },
      queryStringParameters: { tenant: 'from-target', other: 'o' },
    }
    const inv = invocation(dest.arn, params, '{"tenant":"from-event","keep":true}')
    assert.deepEqual(await adapter.invoke(inv), { outcome: 'delivered' })
    const req = seen[0]!
    assert.equal(req.headers['x-tenant'], 'from-connection')
    assert.equal(req.headers['x-other'], 'o')
    assert.equal(req.headers['content-type'], 'application/cloudevents+json')
    assert.equal(req.query.getAll('tenant').join(','), 'from-connection')
    assert.equal(req.query.get('other'), 'o')
    assert.deepEqual(JSON.parse(req.body), { tenant: 'from-connection', keep: true, extra: 'e' })
  })

  it('does not let parameters override User-Agent or Range', async () => {
    const { directory, adapter } = setup()
    const conn = directory.addConnection('c', basic, {
      ...noParams(),
      headers: [param('User-Agent', 'evil'), param('Range', 'bytes=0-1')],
    })
    const dest = directory.addDestination('d', conn, `${base}/hook`)
    await adapter.invoke(invocation(dest.arn))
    assert.equal(seen[0]!.headers['user-agent'], 'Amazon/EventBridge/ApiDestinations')
    assert.equal(seen[0]!.headers.range, 'bytes=0-1048575')
  })

  it('sends no body with GET', async () => {
    const { directory, adapter } = setup()
    const conn = directory.addConnection('c', basic, { ...noParams(), body: [param('b', '1')] })
    const dest = directory.addDestination('d', conn, `${base}/hook`, 'GET')
    assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
    assert.equal(seen[0]!.method, 'GET')
    assert.equal(seen[0]!.body, '')
  })

  describe('responses', () => {
    const cases: [number, boolean, string][] = [
      [429, true, 'THROTTLING'],
      [500, true, 'SDK_CLIENT_ERROR'],
      [503, true, 'SDK_CLIENT_ERROR'],
      [409, true, 'SDK_CLIENT_ERROR'],
      [400, false, 'SDK_CLIENT_ERROR'],
      [404, false, 'SDK_CLIENT_ERROR'],
      [403, false, 'SDK_CLIENT_ERROR'],
    ]
    for (const [status, retryable, errorCode] of cases) {
      it(`${String(status)} fails, ${retryable ? '' : 'not '}retryable`, async () => {
        const { directory, adapter } = setup()
        const conn = directory.addConnection('c', basic)
        const dest = directory.addDestination('d', conn, `${base}/status`)
        handlers.set('/status', () => ({ status, body: 'nope' }))
        const result = failure(await adapter.invoke(invocation(dest.arn)))
        assert.equal(result.retryable, retryable)
        assert.equal(result.errorCode, errorCode)
        assert.match(result.errorMessage, new RegExp(`status code ${String(status)}`))
      })
    }

    it('a negative Retry-After stops retries', async () => {
      const { directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      const dest = directory.addDestination('d', conn, `${base}/status`)
      handlers.set('/status', () => ({ status: 503, headers: { 'retry-after': '-1' } }))
      const result = failure(await adapter.invoke(invocation(dest.arn)))
      assert.equal(result.retryable, false)
    })

    it('a positive Retry-After is passed on with the retryable failure', async () => {
      const { directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      const dest = directory.addDestination('d', conn, `${base}/status`)
      handlers.set('/status', () => ({ status: 503, headers: { 'retry-after': '30' } }))
      const result = failure(await adapter.invoke(invocation(dest.arn)))
      assert.equal(result.retryable, true)
      assert.equal(result.retryAfterMs, 30_000)
    })

    it('any 2xx is delivered; a redirect is not followed and not retried', async () => {
      const { directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      const dest = directory.addDestination('d', conn, `${base}/status`)
      handlers.set('/status', () => ({ status: 204 }))
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      handlers.set('/status', () => ({ status: 302, headers: { location: `${base}/elsewhere` } }))
      const result = failure(await adapter.invoke(invocation(dest.arn)))
      assert.equal(result.retryable, false)
      assert.equal(hits('/elsewhere').length, 0)
    })

    it('a timeout (5 s on the clock) fails retryably', async () => {
      const { clock, directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      const dest = directory.addDestination('d', conn, `${base}/slow`)
      handlers.set('/slow', () => 'hang')
      const pending = adapter.invoke(invocation(dest.arn))
      let settled = false
      void pending.then(() => (settled = true))
      while (hits('/slow').length === 0) await new Promise((r) => setTimeout(r, 5))
      clock.advance(4_999)
      await new Promise((r) => setTimeout(r, 20))
      assert.equal(settled, false, 'still waiting just before 5 s')
      clock.advance(1)
      const result = failure(await pending)
      assert.equal(result.retryable, true)
      assert.equal(result.errorCode, 'TIMEOUT')
    })

    it('an unreachable endpoint fails retryably', async () => {
      const { directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      const probe = createServer()
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
      const port = (probe.address() as AddressInfo).port
      await new Promise<void>((r) => probe.close(() => r()))
      const dest = directory.addDestination('d', conn, `http://127.0.0.1:${String(port)}/x`)
      const result = failure(await adapter.invoke(invocation(dest.arn)))
      assert.equal(result.retryable, true)
      assert.equal(result.errorCode, 'SDK_CLIENT_ERROR')
      assert.match(result.errorMessage, /cannot be reached/)
    })

    it('an endpoint that refused a connection is not tried again for a second', async () => {
      const { clock, directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      let requests = 0
      const back = createServer((_req, res) => {
        requests++
        res.writeHead(200).end()
      })
      await new Promise<void>((r) => back.listen(0, '127.0.0.1', r))
      const port = (back.address() as AddressInfo).port
      await new Promise<void>((r) => back.close(() => r()))
      const dest = directory.addDestination('d', conn, `http://127.0.0.1:${String(port)}/x`)
      const first = failure(await adapter.invoke(invocation(dest.arn)))
      assert.equal(first.errorCode, 'SDK_CLIENT_ERROR')
      // The endpoint comes back at once; within the second it is not tried.
      await new Promise<void>((r) => back.listen(port, '127.0.0.1', r))
      try {
        const second = failure(await adapter.invoke(invocation(dest.arn)))
        assert.equal(second.retryable, true)
        assert.equal(second.errorMessage, first.errorMessage)
        assert.equal(requests, 0)
        clock.advance(1_000)
        assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
        assert.equal(requests, 1)
      } finally {
        back.closeAllConnections()
        await new Promise<void>((r) => back.close(() => r()))
      }
    })
  })

  it('a missing destination or connection fails at once with NO_RESOURCE', async () => {
    const { directory, adapter } = setup()
    const missing = await adapter.invoke(invocation(destArn('gone')))
    assert.deepEqual(missing, {
      outcome: 'failed',
      retryable: false,
      errorCode: 'NO_RESOURCE',
      errorMessage:
        'Unable to invoke ApiDestination endpoint: API destination gone does not exist.',
    })
    const conn = directory.addConnection('c', basic)
    const dest = directory.addDestination('d', conn, `${base}/hook`)
    directory.connections.delete(conn.arn)
    const noConn = failure(await adapter.invoke(invocation(dest.arn)))
    assert.equal(noConn.retryable, false)
    assert.equal(noConn.errorCode, 'NO_RESOURCE')
    assert.equal(seen.length, 0)
  })

  it('a Basic connection answered 401 is de-authorized, and then nothing is sent', async () => {
    const { directory, adapter } = setup()
    const conn = directory.addConnection('c', basic)
    const dest = directory.addDestination('d', conn, `${base}/status`)
    handlers.set('/status', () => ({ status: 401 }))
    const first = failure(await adapter.invoke(invocation(dest.arn)))
    assert.equal(first.errorCode, 'NO_PERMISSIONS')
    assert.equal(first.retryable, false)
    assert.equal(directory.connections.get(conn.arn)!.state, 'DEAUTHORIZED')
    const second = failure(await adapter.invoke(invocation(dest.arn)))
    assert.equal(second.errorCode, 'NO_PERMISSIONS')
    assert.equal(hits('/status').length, 1)
  })

  describe('rate limit', () => {
    it('throttles over InvocationRateLimitPerSecond without sending, until the clock moves', async () => {
      const { clock, directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      const dest = directory.addDestination('d', conn, `${base}/hook`, 'POST', 2)
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), {
        outcome: 'throttled',
        retryAfterMs: 500,
      })
      assert.equal(seen.length, 2)
      clock.advance(499)
      assert.equal((await adapter.invoke(invocation(dest.arn))).outcome, 'throttled')
      clock.advance(1)
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      assert.equal((await adapter.invoke(invocation(dest.arn))).outcome, 'throttled')
      assert.equal(seen.length, 3)
    })

    it('keeps a bucket per destination', async () => {
      const { directory, adapter } = setup()
      const conn = directory.addConnection('c', basic)
      const a = directory.addDestination('a', conn, `${base}/hook`, 'POST', 1)
      const b = directory.addDestination('b', conn, `${base}/hook`, 'POST', 1)
      assert.equal((await adapter.invoke(invocation(a.arn))).outcome, 'delivered')
      assert.equal((await adapter.invoke(invocation(a.arn))).outcome, 'throttled')
      assert.equal((await adapter.invoke(invocation(b.arn))).outcome, 'delivered')
    })
  })

  describe('OAuth client credentials', () => {
    it('fetches one token for concurrent invocations, caches it and records AUTHORIZED', async () => {
      const { clock, directory, adapter } = setup()
      tokenServer()
      const conn = directory.addConnection(
        'o',
        oauth({
          headers: [param('X-Auth-Extra', 'h')],
          queryString: [param('tenant', 't1')],
          body: [param('audience', 'https://api.example'), param('scope', 'events:write')],
        }),
        noParams(),
        'AUTHORIZING',
      )
      const dest = directory.addDestination('d', conn, `${base}/api`)
      const results = await Promise.all([1, 2, 3].map(() => adapter.invoke(invocation(dest.arn))))
      assert.deepEqual(
        results,
        [1, 2, 3].map(() => ({ outcome: 'delivered' })),
      )
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })

      const tokenRequests = hits('/oauth/token')
      assert.equal(tokenRequests.length, 1)
      const t = tokenRequests[0]!
      assert.equal(t.method, 'POST')
      assert.equal(
        t.headers.authorization,
        `Basic ${Buffer.from('client-1:secret-1').toString('base64')}`,
      )
      assert.equal(t.headers['content-type'], 'application/x-www-form-urlencoded')
      assert.equal(t.headers['x-auth-extra'], 'h')
      assert.equal(t.query.get('tenant'), 't1')
      const form = new URLSearchParams(t.body)
      assert.equal(form.get('grant_type'), 'client_credentials')
      assert.equal(form.get('audience'), 'https://api.example')
      assert.equal(form.get('scope'), 'events:write')

      assert.equal(hits('/api').length, 4)
      for (const r of hits('/api')) assert.equal(r.headers.authorization, 'Bearer tok-1')
      assert.deepEqual(directory.changes, [
        { arn: conn.arn, state: 'AUTHORIZED', reason: undefined, at: clock.now() },
      ])
    })

    it('on 401 fetches a new token and resends once', async () => {
      const { directory, adapter } = setup()
      tokenServer()
      const conn = directory.addConnection('o', oauth())
      const dest = directory.addDestination('d', conn, `${base}/api`)
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      // The server rotates: tok-1 is no longer accepted once tok-2 exists. Simulate the API
      // revoking tok-1 by issuing tok-2 out of band.
      await fetch(`${base}/oauth/token`, { method: 'POST' })
      seen = []
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      const api = hits('/api')
      assert.deepEqual(
        api.map((r) => r.headers.authorization),
        ['Bearer tok-1', 'Bearer tok-3'],
      )
      assert.equal(hits('/oauth/token').length, 1)
      assert.equal(directory.connections.get(conn.arn)!.state, 'AUTHORIZED')
    })

    it('resends only once: a second 401 fails retryably', async () => {
      const { directory, adapter } = setup()
      tokenServer()
      handlers.set('/api', () => ({ status: 401 }))
      const conn = directory.addConnection('o', oauth())
      const dest = directory.addDestination('d', conn, `${base}/api`)
      const result = failure(await adapter.invoke(invocation(dest.arn)))
      assert.equal(result.retryable, true)
      assert.equal(hits('/api').length, 2)
      assert.equal(hits('/oauth/token').length, 2)
    })

    it('honours expires_in: the token is reused until it is about to expire', async () => {
      const { clock, directory, adapter } = setup()
      tokenServer(3600)
      const conn = directory.addConnection('o', oauth())
      const dest = directory.addDestination('d', conn, `${base}/api`)
      await adapter.invoke(invocation(dest.arn))
      clock.advance(3_500_000) // 100 s left: not yet within the 60 s refresh margin
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      assert.equal(hits('/oauth/token').length, 1)
      clock.advance(100_000) // expired
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      assert.equal(hits('/oauth/token').length, 2)
      assert.equal(hits('/api').at(-1)!.headers.authorization, 'Bearer tok-2')
    })

    it('refreshes a token about to expire in the background, using the old one meanwhile', async () => {
      const { clock, directory, adapter } = setup()
      tokenServer(3600)
      handlers.set('/api', () => ({ status: 200 }))
      const conn = directory.addConnection('o', oauth())
      const dest = directory.addDestination('d', conn, `${base}/api`)
      await adapter.invoke(invocation(dest.arn))
      clock.advance(3_550_000) // 50 s left: within the margin
      assert.deepEqual(await adapter.invoke(invocation(dest.arn)), { outcome: 'delivered' })
      assert.equal(hits('/api').at(-1)!.headers.authorization, 'Bearer tok-1')
      while (hits('/oauth/token').length < 2) await new Promise((r) => setTimeout(r, 5))
      await new Promise((r) => setTimeout(r, 20))
      await adapter.invoke(invocation(dest.arn))
      assert.equal(hits('/api').at(-1)!.headers.authorization, 'Bearer tok-2')
      assert.equal(hits('/oauth/token').length, 2)
    })

    it('a failed token fetch de-authorizes the connection with a reason', async () => {
      const { directory, adapter } = setup()
      handlers.set('/oauth/token', () => ({ status: 400, body: '{"error":"invalid_client"}' }))
      const conn = directory.addConnection('o', oauth(), noParams(), 'AUTHORIZING')
      const dest = directory.addDestination('d', conn, `${base}/api`)
      const result = failure(await adapter.invoke(invocation(dest.arn)))
      assert.equal(result.errorCode, 'NO_PERMISSIONS')
      assert.equal(result.retryable, false)
      assert.equal(hits('/api').length, 0)
      const c = directory.connections.get(conn.arn)!
      assert.equal(c.state, 'DEAUTHORIZED')
      assert.match(c.stateReason ?? '', /status code 400/)
      await adapter.invoke(invocation(dest.arn))
      assert.equal(hits('/oauth/token').length, 1, 'a de-authorized connection is not retried')
    })

    it('a token response without access_token de-authorizes', async () => {
      const { directory, adapter } = setup()
      handlers.set('/oauth/token', () => ({ status: 200, body: '{"token":"x"}' }))
      const conn = directory.addConnection('o', oauth(), noParams(), 'AUTHORIZING')
      await adapter.authorize(conn.arn)
      assert.equal(directory.connections.get(conn.arn)!.state, 'DEAUTHORIZED')
      assert.match(directory.connections.get(conn.arn)!.stateReason ?? '', /access_token/)
    })

    it('authorize() fetches now and resolves after recording; forget() drops the token', async () => {
      const { clock, directory, adapter } = setup()
      tokenServer()
      const conn = directory.addConnection('o', oauth(), noParams(), 'AUTHORIZING')
      const dest = directory.addDestination('d', conn, `${base}/api`)
      await adapter.authorize(conn.arn)
      assert.deepEqual(directory.changes, [
        { arn: conn.arn, state: 'AUTHORIZED', reason: undefined, at: clock.now() },
      ])
      assert.equal(hits('/oauth/token').length, 1)
      await adapter.invoke(invocation(dest.arn))
      assert.equal(hits('/oauth/token').length, 1, 'the invocation reuses the token')
      adapter.forget(conn.arn)
      await adapter.invoke(invocation(dest.arn))
      assert.equal(hits('/oauth/token').length, 2)
    })

    it('a fetch forgotten while in flight is neither cached nor recorded', async () => {
      const { clock, directory } = setup()
      let release: (() => void) | undefined
      const gate = new Promise<void>((r) => (release = r))
      const fakeFetch: typeof fetch = async (input, init) => {
        const url =
          typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
        if (url.includes('/oauth/token')) await gate
        return fetch(input, init)
      }
      const a = createApiDestinationAdapter({ directory, clock, fetch: fakeFetch })
      tokenServer()
      const conn = directory.addConnection('o', oauth(), noParams(), 'AUTHORIZING')
      const first = a.authorize(conn.arn)
      a.forget(conn.arn)
      release!()
      await first
      assert.deepEqual(directory.changes, [])
      await a.authorize(conn.arn)
      assert.equal(directory.changes.length, 1)
      assert.equal(hits('/oauth/token').length, 2)
    })

    it('uses GET with parameters in the query when the connection says so', async () => {
      const { directory, adapter } = setup()
      tokenServer()
      const auth = oauth({ ...noParams(), body: [param('audience', 'aud')] })
      if (auth.type === 'OAUTH_CLIENT_CREDENTIALS') auth.httpMethod = 'GET'
      const conn = directory.addConnection('o', auth)
      await adapter.authorize(conn.arn)
      const t = hits('/oauth/token')[0]!
      assert.equal(t.method, 'GET')
      assert.equal(t.query.get('grant_type'), 'client_credentials')
      assert.equal(t.query.get('audience'), 'aud')
      assert.equal(t.body, '')
    })
  })

  it('authorize() marks Basic and API key connections AUTHORIZED without a request', async () => {
    const { clock, directory, adapter } = setup()
    const conn = directory.addConnection('c', basic, noParams(), 'CREATING')
    await adapter.authorize(conn.arn)
    assert.deepEqual(directory.changes, [
      { arn: conn.arn, state: 'AUTHORIZED', reason: undefined, at: clock.now() },
    ])
    assert.equal(seen.length, 0)
  })
})
