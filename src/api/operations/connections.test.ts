import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock } from '../../clock.js'
import { BusError } from '../../errors.js'
import { Registry } from '../../engine/registry.js'
import type { Scope } from '../../model.js'
import { createMemoryStore } from '../../store/memory/index.js'
import type { Operation, RequestContext, Services } from '../context.js'
import type { Input } from '../validate.js'
import { apiDestinationOperations } from './api-destinations.js'
import { connectionOperations } from './connections.js'

const SCOPE: Scope = { account: '123456789012', region: 'eu-west-1' }
const OTHER: Scope = { account: '210987654321', region: 'eu-west-1' }
const START = Date.UTC(2026, 0, 1)

type Call = { op: 'authorize' | 'forget'; arn: string; stored: boolean }

/** A registry on the memory store, a manual clock, and a connections service that records. */
async function setup(authorize: (arn: string) => Promise<void> = () => new Promise(() => {})) {
  const clock = new ManualClock(START)
  const registry = await Registry.load(createMemoryStore().config, () => clock.now())
  const calls: Call[] = []
  const services = {
    registry,
    clock,
    connections: {
      authorize(arn: string) {
        calls.push({ op: 'authorize', arn, stored: registry.connection(arn) !== undefined })
        return authorize(arn)
      },
      forget(arn: string) {
        calls.push({ op: 'forget', arn, stored: registry.connection(arn) !== undefined })
      },
    },
  } as unknown as Services
  const ctx = (scope: Scope = SCOPE): RequestContext => ({ scope, requestId: 'r', services })
  const ops: Record<string, Operation> = { ...connectionOperations, ...apiDestinationOperations }
  const call = async (
    name: string,
    input: Input,
    scope?: Scope,
  ): Promise<Record<string, unknown>> => {
    const op = ops[name]
    if (!op) throw new Error(`no operation ${name}`)
    return (await op(ctx(scope), input)) as Record<string, unknown>
  }
  return { clock, registry, calls, call }
}

type Env = Awaited<ReturnType<typeof setup>>

/** Runs the call and returns the BusError it must fail with. */
async function failure(p: Promise<unknown>): Promise<BusError> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof BusError, `expected a BusError, got ${String(e)}`)
    return e
  }
  assert.fail('expected the call to fail')
}

const basic = (name: string, extra: Input = {}): Input => ({
  Name: name,
  AuthorizationType: 'BASIC',
  AuthParameters: { BasicAuthParameters: { Username: 'user', Password: 'hunter2-secret' } },
  ...extra,
})

const oauth = (name: string): Input => ({
  Name: name,
  AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
  AuthParameters: {
    OAuthParameters: {
      ClientParameters: { ClientID: 'client-id', ClientSecret: 'client-secret-value' },
      AuthorizationEndpoint: 'https://auth.example.com/token',
      HttpMethod: 'POST',
      OAuthHttpParameters: {
        BodyParameters: [
          { Key: 'grant_type', Value: 'client_credentials', IsValueSecret: false },
          { Key: 'audience', Value: 'oauth-body-secret', IsValueSecret: true },
        ],
      },
    },
  },
})

const ARN_RE = /^arn:aws:events:eu-west-1:123456789012:connection\/([\w.-]+)\/[0-9a-f-]{36}$/

async function createDestination(env: Env, name: string, connectionArn: string, extra: Input = {}) {
  return env.call('CreateApiDestination', {
    Name: name,
    ConnectionArn: connectionArn,
    InvocationEndpoint: 'https://api.example.com/orders/*',
    HttpMethod: 'POST',
    ...extra,
  })
}

// ── connections ──────────────────────────────────────────────────────────────

test('CreateConnection (BASIC) answers the four members, AUTHORIZED, times in epoch seconds', async () => {
  const env = await setup()
  env.clock.advance(1500)
  const out = await env.call('CreateConnection', basic('conn'))
  assert.deepEqual(Object.keys(out).sort(), [
    'ConnectionArn',
    'ConnectionState',
    'CreationTime',
    'LastModifiedTime',
  ])
  assert.match(out.ConnectionArn as string, ARN_RE)
  assert.equal(out.ConnectionState, 'AUTHORIZED')
  assert.equal(out.CreationTime, (START + 1500) / 1000)
  assert.equal(out.LastModifiedTime, (START + 1500) / 1000)
  assert.equal(env.calls.length, 0, 'no OAuth authorization for BASIC')
})

test('DescribeConnection (BASIC) shows the user name and SecretArn, never the password', async () => {
  const env = await setup()
  await env.call(
    'CreateConnection',
    basic('conn', {
      Description: 'my connection',
      AuthParameters: {
        BasicAuthParameters: { Username: 'user', Password: 'hunter2-secret' },
        InvocationHttpParameters: {
          HeaderParameters: [
            { Key: 'x-plain', Value: 'visible', IsValueSecret: false },
            { Key: 'x-token', Value: 'header-secret-value', IsValueSecret: true },
          ],
          QueryStringParameters: [{ Key: 'q', Value: 'qs-value' }],
        },
      },
    }),
  )
  const d = await env.call('DescribeConnection', { Name: 'conn' })
  assert.match(d.ConnectionArn as string, ARN_RE)
  assert.equal(d.Name, 'conn')
  assert.equal(d.Description, 'my connection')
  assert.equal(d.ConnectionState, 'AUTHORIZED')
  assert.equal(d.AuthorizationType, 'BASIC')
  assert.match(
    d.SecretArn as string,
    /^arn:aws:secretsmanager:eu-west-1:123456789012:secret:events!connection\/conn\/[0-9a-f-]{36}-[A-Za-z0-9]{6}$/,
  )
  assert.deepEqual(d.AuthParameters, {
    BasicAuthParameters: { Username: 'user' },
    InvocationHttpParameters: {
      HeaderParameters: [
        { Key: 'x-plain', Value: 'visible', IsValueSecret: false },
        { Key: 'x-token', IsValueSecret: true },
      ],
      QueryStringParameters: [{ Key: 'q', Value: 'qs-value', IsValueSecret: false }],
    },
  })
  assert.equal(d.CreationTime, START / 1000)
  assert.equal(d.LastAuthorizedTime, START / 1000)
  assert.equal(d.StateReason, undefined)
  const text = JSON.stringify(d)
  assert.ok(!text.includes('hunter2-secret'))
  assert.ok(!text.includes('header-secret-value'))
  // the secret is still there for delivery
  const stored = env.registry.connectionByName(SCOPE, 'conn')!
  assert.deepEqual(stored.auth, { type: 'BASIC', username: 'user', password: 'hunter2-secret' })
  assert.equal(stored.invocationHttpParameters.headers[1]?.value, 'header-secret-value')
})

test('DescribeConnection (API_KEY) shows ApiKeyName only and omits empty invocation parameters', async () => {
  const env = await setup()
  await env.call('CreateConnection', {
    Name: 'key',
    AuthorizationType: 'API_KEY',
    AuthParameters: {
      ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'key-secret' },
    },
  })
  const d = await env.call('DescribeConnection', { Name: 'key' })
  assert.deepEqual(d.AuthParameters, { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key' } })
  assert.equal(d.Description, undefined)
  assert.ok(!JSON.stringify(d).includes('key-secret'))
})

test('CreateConnection (OAuth) answers AUTHORIZING and starts authorization without waiting', async () => {
  // authorize never settles: CreateConnection must answer anyway
  const env = await setup()
  const out = await env.call('CreateConnection', oauth('oa'))
  assert.equal(out.ConnectionState, 'AUTHORIZING')
  assert.deepEqual(env.calls, [{ op: 'authorize', arn: out.ConnectionArn, stored: true }])
  const d = await env.call('DescribeConnection', { Name: 'oa' })
  assert.equal(d.ConnectionState, 'AUTHORIZING')
  assert.deepEqual(d.AuthParameters, {
    OAuthParameters: {
      ClientParameters: { ClientID: 'client-id' },
      AuthorizationEndpoint: 'https://auth.example.com/token',
      HttpMethod: 'POST',
      OAuthHttpParameters: {
        BodyParameters: [
          { Key: 'grant_type', Value: 'client_credentials', IsValueSecret: false },
          { Key: 'audience', IsValueSecret: true },
        ],
      },
    },
  })
  const text = JSON.stringify(d)
  assert.ok(!text.includes('client-secret-value'))
  assert.ok(!text.includes('oauth-body-secret'))
})

test('a failing authorization is swallowed (the service records the outcome itself)', async () => {
  const env = await setup(() => Promise.reject(new Error('token endpoint down')))
  const out = await env.call('CreateConnection', oauth('oa'))
  assert.equal(out.ConnectionState, 'AUTHORIZING')
  // let the rejection run its course: an unhandled one would fail the test run
  await new Promise((r) => setImmediate(r))
  assert.equal(env.calls.length, 1)
})

test('validation: AWS messages, paths, and no secret in any message', async () => {
  const env = await setup()
  let e = await failure(env.call('CreateConnection', basic('Invalid Name With Spaces!')))
  assert.equal(e.code, 'ValidationException')
  assert.equal(
    e.message,
    "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
  )
  e = await failure(
    env.call('CreateConnection', basic('c', { AuthorizationType: 'INVALID_AUTH_TYPE' })),
  )
  assert.equal(
    e.message,
    "1 validation error detected: Value 'INVALID_AUTH_TYPE' at 'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]",
  )
  e = await failure(
    env.call('CreateConnection', {
      Name: 'c',
      AuthorizationType: 'BASIC',
      AuthParameters: { BasicAuthParameters: { Password: 'pw:with-colon' } },
    }),
  )
  assert.equal(
    e.message,
    "2 validation errors detected: Value null at 'authParameters.basicAuthParameters.username' failed to satisfy constraint: Member must not be null; " +
      "Value at 'authParameters.basicAuthParameters.password' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ \\t]*[^\\x00-\\x1F:\\x7F]+([ \\t]+[^\\x00-\\x1F:\\x7F]+)*[ \\t]*$",
  )
  assert.ok(!e.message.includes('pw:with-colon'))
  e = await failure(env.call('CreateConnection', { Name: 'c', AuthorizationType: 'BASIC' }))
  assert.equal(
    e.message,
    "1 validation error detected: Value null at 'authParameters' failed to satisfy constraint: Member must not be null",
  )
  e = await failure(
    env.call('CreateConnection', {
      ...basic('c'),
      AuthParameters: {
        BasicAuthParameters: { Username: 'u', Password: 'p' },
        InvocationHttpParameters: {
          HeaderParameters: [{ Key: 'bad key', Value: 'v\u0001secret' }],
          BodyParameters: Array.from({ length: 101 }, (_, i) => ({
            Key: `k${String(i)}`,
            Value: 'body-secret',
          })),
        },
      },
    }),
  )
  assert.equal(
    e.message,
    "3 validation errors detected: Value 'bad key' at 'authParameters.invocationHttpParameters.headerParameters.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$; " +
      "Value at 'authParameters.invocationHttpParameters.headerParameters.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ \\t]*[\\x20-\\x7E]+([ \\t]+[\\x20-\\x7E]+)*[ \\t]*$; " +
      "Value at 'authParameters.invocationHttpParameters.bodyParameters' failed to satisfy constraint: Member must have length less than or equal to 100",
  )
  assert.ok(!e.message.includes('secret'))
  e = await failure(
    env.call('CreateConnection', { ...basic('c'), AuthParameters: { BasicAuthParameters: 'x' } }),
  )
  assert.equal(e.code, 'SerializationException')
  assert.equal(env.registry.listConnections(SCOPE).length, 0, 'nothing stored')
})

test('credential patterns are checked in linear time (the AWS pattern backtracks exponentially)', async () => {
  const env = await setup()
  const value = `${'a '.repeat(20_000)}\u0001`
  const started = Date.now()
  const e = await failure(
    env.call('CreateConnection', {
      ...basic('c'),
      AuthParameters: { BasicAuthParameters: { Username: value, Password: value } },
    }),
  )
  assert.ok(Date.now() - started < 1000)
  assert.match(e.message, /^4 validation errors detected/)
})

test('auth parameters must be exactly those of the AuthorizationType', async () => {
  const env = await setup()
  const mismatch =
    'Failed to create the connection(s). Parameter AuthParameters is not valid. Reason: AuthorizationType BASIC requires BasicAuthParameters and no other authorization parameters.'
  let e = await failure(
    env.call('CreateConnection', {
      Name: 'c',
      AuthorizationType: 'BASIC',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'k', ApiKeyValue: 'v' } },
    }),
  )
  assert.equal(e.code, 'ValidationException')
  assert.equal(e.message, mismatch)
  e = await failure(
    env.call('CreateConnection', {
      ...basic('c'),
      AuthParameters: {
        BasicAuthParameters: { Username: 'u', Password: 'p' },
        ApiKeyAuthParameters: { ApiKeyName: 'k', ApiKeyValue: 'v' },
      },
    }),
  )
  assert.equal(e.message, mismatch)
  // only the section of the type is checked for completeness
  e = await failure(
    env.call('CreateConnection', {
      Name: 'c',
      AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
      AuthParameters: { OAuthParameters: { HttpMethod: 'PATCH' } },
    }),
  )
  assert.equal(
    e.message,
    "3 validation errors detected: Value null at 'authParameters.oAuthParameters.clientParameters' failed to satisfy constraint: Member must not be null; " +
      "Value null at 'authParameters.oAuthParameters.authorizationEndpoint' failed to satisfy constraint: Member must not be null; " +
      "Value 'PATCH' at 'authParameters.oAuthParameters.httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [GET, POST, PUT]",
  )
  e = await failure(
    env.call('CreateConnection', {
      ...oauth('c'),
      AuthParameters: {
        OAuthParameters: {
          ClientParameters: { ClientID: 'id', ClientSecret: 's' },
          AuthorizationEndpoint: 'mailto:someone',
          HttpMethod: 'GET',
        },
      },
    }),
  )
  assert.equal(
    e.message,
    "Failed to create the connection(s). Parameter AuthorizationEndpoint is not valid. Reason: Endpoint 'mailto:someone' is invalid, please provide a valid HTTPS endpoint URL.",
  )
  assert.equal(env.registry.listConnections(SCOPE).length, 0)
})

test('duplicate names are ResourceAlreadyExistsException; names are per account and region', async () => {
  const env = await setup()
  await env.call('CreateConnection', basic('conn'))
  const e = await failure(env.call('CreateConnection', basic('conn')))
  assert.equal(e.code, 'ResourceAlreadyExistsException')
  assert.equal(e.message, "Connection 'conn' already exists.")
  const other = await env.call('CreateConnection', basic('conn'), OTHER)
  assert.match(other.ConnectionArn as string, /:210987654321:connection\/conn\//)
})

test('missing connections: AWS message for Describe, Update, Deauthorize, Delete', async () => {
  const env = await setup()
  await env.call('CreateConnection', basic('mine'), OTHER)
  const message = "Failed to describe the connection(s). Connection 'mine' does not exist."
  for (const op of [
    'DescribeConnection',
    'UpdateConnection',
    'DeauthorizeConnection',
    'DeleteConnection',
  ]) {
    const e = await failure(env.call(op, { Name: 'mine' }))
    assert.equal(e.code, 'ResourceNotFoundException', op)
    assert.equal(e.message, message, op)
  }
})

test('UpdateConnection changes only what it is given and re-authorizes', async () => {
  const env = await setup()
  await env.call(
    'CreateConnection',
    basic('conn', {
      Description: 'first',
      AuthParameters: {
        BasicAuthParameters: { Username: 'user', Password: 'old-pass' },
        InvocationHttpParameters: {
          HeaderParameters: [{ Key: 'h', Value: '1' }],
          BodyParameters: [{ Key: 'b', Value: '2' }],
        },
      },
    }),
  )
  env.clock.advance(10_000)
  const out = await env.call('UpdateConnection', {
    Name: 'conn',
    AuthParameters: {
      BasicAuthParameters: { Password: 'new-pass' },
      InvocationHttpParameters: { HeaderParameters: [{ Key: 'h2', Value: '3' }] },
    },
  })
  assert.deepEqual(Object.keys(out).sort(), [
    'ConnectionArn',
    'ConnectionState',
    'CreationTime',
    'LastAuthorizedTime',
    'LastModifiedTime',
  ])
  assert.equal(out.ConnectionState, 'AUTHORIZED')
  assert.equal(out.CreationTime, START / 1000)
  assert.equal(out.LastModifiedTime, (START + 10_000) / 1000)
  assert.equal(out.LastAuthorizedTime, (START + 10_000) / 1000)
  const c = env.registry.connectionByName(SCOPE, 'conn')!
  assert.deepEqual(c.auth, { type: 'BASIC', username: 'user', password: 'new-pass' })
  assert.equal(c.description, 'first')
  assert.deepEqual(c.invocationHttpParameters.headers, [
    { key: 'h2', value: '3', isValueSecret: false },
  ])
  assert.deepEqual(c.invocationHttpParameters.body, [
    { key: 'b', value: '2', isValueSecret: false },
  ])

  // a description alone does not touch the authorization
  env.clock.advance(1000)
  const d = await env.call('UpdateConnection', { Name: 'conn', Description: 'second' })
  assert.equal(d.LastAuthorizedTime, (START + 10_000) / 1000)
  assert.equal(d.LastModifiedTime, (START + 11_000) / 1000)
  assert.equal((await env.call('DescribeConnection', { Name: 'conn' })).Description, 'second')
})

test('UpdateConnection to another type needs that type complete; OAuth re-authorizes', async () => {
  const env = await setup()
  const { ConnectionArn: arn } = await env.call('CreateConnection', basic('conn'))
  let e = await failure(
    env.call('UpdateConnection', { Name: 'conn', AuthorizationType: 'API_KEY' }),
  )
  assert.equal(
    e.message,
    'Failed to update the connection(s). Parameter AuthParameters is not valid. Reason: AuthorizationType API_KEY requires ApiKeyAuthParameters and no other authorization parameters.',
  )
  e = await failure(
    env.call('UpdateConnection', {
      Name: 'conn',
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'k' } },
    }),
  )
  assert.equal(
    e.message,
    "1 validation error detected: Value at 'authParameters.apiKeyAuthParameters.apiKeyValue' failed to satisfy constraint: Member must not be null",
  )
  // parameters of another type than the connection's, without changing the type
  e = await failure(
    env.call('UpdateConnection', {
      Name: 'conn',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'k', ApiKeyValue: 'v' } },
    }),
  )
  assert.equal(e.code, 'ValidationException')
  assert.equal(env.registry.connectionByName(SCOPE, 'conn')!.auth.type, 'BASIC', 'unchanged')

  const o = oauth('conn').AuthParameters as Input
  const out = await env.call('UpdateConnection', {
    Name: 'conn',
    AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
    AuthParameters: o,
  })
  assert.equal(out.ConnectionState, 'AUTHORIZING')
  assert.deepEqual(
    env.calls.map((c) => [c.op, c.arn]),
    [
      ['forget', arn],
      ['authorize', arn],
    ],
  )
  assert.equal(env.calls[1]!.stored, true)
  const c = env.registry.connectionByName(SCOPE, 'conn')!
  assert.equal(c.auth.type, 'OAUTH_CLIENT_CREDENTIALS')
  assert.equal(c.arn, arn, 'same connection')

  // a new client secret alone: merged, forgotten, authorized again
  await env.call('UpdateConnection', {
    Name: 'conn',
    AuthParameters: { OAuthParameters: { ClientParameters: { ClientSecret: 'rotated' } } },
  })
  const after = env.registry.connectionByName(SCOPE, 'conn')!
  assert.ok(after.auth.type === 'OAUTH_CLIENT_CREDENTIALS')
  assert.equal(after.auth.clientId, 'client-id')
  assert.equal(after.auth.clientSecret, 'rotated')
  assert.equal(after.auth.authorizationEndpoint, 'https://auth.example.com/token')
  assert.equal(after.auth.oauthHttpParameters.body.length, 2)
  assert.deepEqual(
    env.calls.slice(2).map((c) => c.op),
    ['forget', 'authorize'],
  )
})

test('DeauthorizeConnection records DEAUTHORIZED and drops the token; Update authorizes again', async () => {
  const env = await setup()
  const { ConnectionArn: arn } = await env.call('CreateConnection', basic('conn'))
  env.clock.advance(2000)
  const out = await env.call('DeauthorizeConnection', { Name: 'conn' })
  assert.equal(out.ConnectionState, 'DEAUTHORIZED')
  assert.equal(out.LastAuthorizedTime, START / 1000)
  assert.equal(out.LastModifiedTime, (START + 2000) / 1000)
  assert.deepEqual(env.calls, [{ op: 'forget', arn, stored: true }])
  assert.equal(
    (await env.call('DescribeConnection', { Name: 'conn' })).ConnectionState,
    'DEAUTHORIZED',
  )
  const up = await env.call('UpdateConnection', {
    Name: 'conn',
    AuthParameters: { BasicAuthParameters: { Password: 'fresh' } },
  })
  assert.equal(up.ConnectionState, 'AUTHORIZED')
})

test('DeleteConnection answers DELETING and the connection is gone', async () => {
  const env = await setup()
  const { ConnectionArn: arn } = await env.call('CreateConnection', basic('conn'))
  const out = await env.call('DeleteConnection', { Name: 'conn' })
  assert.deepEqual(out, {
    ConnectionArn: arn,
    ConnectionState: 'DELETING',
    CreationTime: START / 1000,
    LastModifiedTime: START / 1000,
    LastAuthorizedTime: START / 1000,
  })
  assert.deepEqual(env.calls, [{ op: 'forget', arn, stored: true }])
  const e = await failure(env.call('DescribeConnection', { Name: 'conn' }))
  assert.equal(e.code, 'ResourceNotFoundException')
  assert.deepEqual((await env.call('ListConnections', {})).Connections, [])
  // the name is free again, under a new ARN
  const again = await env.call('CreateConnection', basic('conn'))
  assert.notEqual(again.ConnectionArn, arn)
})

test('ListConnections: prefix, state filter, summaries without secrets, paging', async () => {
  const env = await setup()
  for (const n of ['b-2', 'a-1', 'b-1', 'b-3', 'c-1']) await env.call('CreateConnection', basic(n))
  await env.call('CreateConnection', oauth('b-oauth'))
  await env.call('CreateConnection', basic('b-other'), OTHER)

  const all = await env.call('ListConnections', {})
  const names = (all.Connections as { Name: string }[]).map((c) => c.Name)
  assert.deepEqual(names, ['a-1', 'b-1', 'b-2', 'b-3', 'b-oauth', 'c-1'])
  assert.equal(all.NextToken, undefined)
  const first = (all.Connections as Record<string, unknown>[])[0]!
  assert.deepEqual(Object.keys(first).sort(), [
    'AuthorizationType',
    'ConnectionArn',
    'ConnectionState',
    'CreationTime',
    'LastAuthorizedTime',
    'LastModifiedTime',
    'Name',
  ])

  const authorizing = await env.call('ListConnections', { ConnectionState: 'AUTHORIZING' })
  assert.deepEqual(
    (authorizing.Connections as { Name: string }[]).map((c) => c.Name),
    ['b-oauth'],
  )

  const seen: string[] = []
  let token: unknown
  let pages = 0
  do {
    const p = await env.call('ListConnections', {
      NamePrefix: 'b-',
      Limit: 2,
      ...(token === undefined ? {} : { NextToken: token }),
    })
    pages++
    seen.push(...(p.Connections as { Name: string }[]).map((c) => c.Name))
    token = p.NextToken
  } while (token !== undefined)
  assert.deepEqual(seen, ['b-1', 'b-2', 'b-3', 'b-oauth'])
  assert.equal(pages, 2)

  const e = await failure(env.call('ListConnections', { ConnectionState: 'SLEEPING', Limit: 0 }))
  assert.match(e.message, /^2 validation errors detected: Value 'SLEEPING' at 'connectionState'/)
})

// ── API destinations ─────────────────────────────────────────────────────────

test('CreateApiDestination: defaults, state from the connection, Describe and List shapes', async () => {
  const env = await setup()
  const { ConnectionArn: arn } = await env.call('CreateConnection', basic('conn'))
  env.clock.advance(500)
  const out = await createDestination(env, 'dest', arn as string, { Description: 'orders' })
  assert.deepEqual(Object.keys(out).sort(), [
    'ApiDestinationArn',
    'ApiDestinationState',
    'CreationTime',
    'LastModifiedTime',
  ])
  assert.match(
    out.ApiDestinationArn as string,
    /^arn:aws:events:eu-west-1:123456789012:api-destination\/dest\/[0-9a-f-]{36}$/,
  )
  assert.equal(out.ApiDestinationState, 'ACTIVE')
  assert.equal(out.CreationTime, (START + 500) / 1000)
  const d = await env.call('DescribeApiDestination', { Name: 'dest' })
  assert.deepEqual(d, {
    ApiDestinationArn: out.ApiDestinationArn,
    Name: 'dest',
    Description: 'orders',
    ApiDestinationState: 'ACTIVE',
    ConnectionArn: arn,
    InvocationEndpoint: 'https://api.example.com/orders/*',
    HttpMethod: 'POST',
    InvocationRateLimitPerSecond: 300,
    CreationTime: (START + 500) / 1000,
    LastModifiedTime: (START + 500) / 1000,
  })
  const list = await env.call('ListApiDestinations', {})
  const item = (list.ApiDestinations as Record<string, unknown>[])[0]!
  assert.equal(item.Description, undefined, 'list items carry no Description')
  assert.equal(item.Name, 'dest')
})

test('ApiDestinationState follows the connection: INACTIVE while authorizing, deauthorized or deleted', async () => {
  const env = await setup()
  const { ConnectionArn: arn } = await env.call('CreateConnection', oauth('oa'))
  const out = await createDestination(env, 'dest', arn as string)
  assert.equal(out.ApiDestinationState, 'INACTIVE')
  // the authorization service records its outcome on the registry's connection
  const c = env.registry.connection(arn as string)!
  await env.registry.putConnection({ ...c, state: 'AUTHORIZED' })
  assert.equal(
    (await env.call('DescribeApiDestination', { Name: 'dest' })).ApiDestinationState,
    'ACTIVE',
  )
  await env.call('DeauthorizeConnection', { Name: 'oa' })
  assert.equal(
    (await env.call('DescribeApiDestination', { Name: 'dest' })).ApiDestinationState,
    'INACTIVE',
  )
  await env.call('DeleteConnection', { Name: 'oa' })
  const list = await env.call('ListApiDestinations', {})
  assert.equal(
    (list.ApiDestinations as { ApiDestinationState: string }[])[0]!.ApiDestinationState,
    'INACTIVE',
  )
})

test('CreateApiDestination validation and the connection it names', async () => {
  const env = await setup()
  const { ConnectionArn: arn } = await env.call('CreateConnection', basic('conn'))
  let e = await failure(
    env.call('CreateApiDestination', {
      Name: 'd',
      ConnectionArn: 'invalid-connection-arn',
      InvocationEndpoint: 'https://example.com',
      HttpMethod: 'INVALID_METHOD',
    }),
  )
  assert.equal(
    e.message,
    "2 validation errors detected: Value 'invalid-connection-arn' at 'connectionArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:connection\\/[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]+$; Value 'INVALID_METHOD' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]",
  )
  e = await failure(createDestination(env, 'd', arn as string, { InvocationRateLimitPerSecond: 0 }))
  assert.equal(
    e.message,
    "1 validation error detected: Value '0' at 'invocationRateLimitPerSecond' failed to satisfy constraint: Member must have value greater than or equal to 1",
  )
  e = await failure(
    createDestination(env, 'd', arn as string, { InvocationEndpoint: 'ftp://example.com/x' }),
  )
  assert.equal(
    e.message,
    "Failed to create the api-destination(s). Parameter InvocationEndpoint is not valid. Reason: Endpoint 'ftp://example.com/x' is invalid, please provide a valid HTTPS endpoint URL.",
  )
  e = await failure(
    createDestination(env, 'd', arn as string, { InvocationEndpoint: 'example.com' }),
  )
  assert.equal(e.code, 'ValidationException')

  const unknown =
    'arn:aws:events:eu-west-1:123456789012:connection/nope/00000000-0000-0000-0000-000000000000'
  e = await failure(createDestination(env, 'd', unknown))
  assert.equal(e.code, 'ResourceNotFoundException')
  assert.equal(
    e.message,
    `Failed to create the api-destination(s). Connection '${unknown}' does not exist.`,
  )
  // another account's connection is not the caller's
  e = await failure(
    env.call(
      'CreateApiDestination',
      {
        Name: 'd',
        ConnectionArn: arn,
        InvocationEndpoint: 'https://example.com',
        HttpMethod: 'GET',
      },
      OTHER,
    ),
  )
  assert.equal(e.code, 'ResourceNotFoundException')

  // Junction accepts plain HTTP (AWS requires HTTPS)
  const http = await createDestination(env, 'plain', arn as string, {
    InvocationEndpoint: 'http://10.0.0.5:8080/hook',
  })
  assert.equal(http.ApiDestinationState, 'ACTIVE')

  e = await failure(createDestination(env, 'plain', arn as string))
  assert.equal(e.code, 'ResourceAlreadyExistsException')
  assert.equal(
    e.message,
    "Failed to create the api-destination(s). An api-destination with name 'plain' already exists.",
  )
})

test('Update, Delete and missing API destinations', async () => {
  const env = await setup()
  const { ConnectionArn: a1 } = await env.call('CreateConnection', basic('one'))
  const { ConnectionArn: a2 } = await env.call('CreateConnection', oauth('two'))
  await createDestination(env, 'dest', a1 as string, {
    Description: 'first',
    InvocationRateLimitPerSecond: 10,
  })
  env.clock.advance(3000)
  const out = await env.call('UpdateApiDestination', {
    Name: 'dest',
    HttpMethod: 'PUT',
    ConnectionArn: a2,
  })
  assert.equal(out.ApiDestinationState, 'INACTIVE', 'now on the authorizing OAuth connection')
  assert.equal(out.LastModifiedTime, (START + 3000) / 1000)
  assert.equal(out.CreationTime, START / 1000)
  const d = await env.call('DescribeApiDestination', { Name: 'dest' })
  assert.equal(d.HttpMethod, 'PUT')
  assert.equal(d.ConnectionArn, a2)
  assert.equal(d.Description, 'first')
  assert.equal(d.InvocationRateLimitPerSecond, 10)
  assert.equal(d.InvocationEndpoint, 'https://api.example.com/orders/*')

  let e = await failure(
    env.call('UpdateApiDestination', {
      Name: 'dest',
      ConnectionArn: (a1 as string).replace(/[0-9a-f]{4}$/, '0000'),
    }),
  )
  assert.equal(e.code, 'ResourceNotFoundException')
  e = await failure(env.call('UpdateApiDestination', { Name: 'nope', HttpMethod: 'GET' }))
  assert.equal(
    e.message,
    "Failed to update the api-destination(s). An api-destination 'nope' does not exist.",
  )

  assert.deepEqual(await env.call('DeleteApiDestination', { Name: 'dest' }), {})
  e = await failure(env.call('DescribeApiDestination', { Name: 'dest' }))
  assert.equal(e.code, 'ResourceNotFoundException')
  assert.equal(
    e.message,
    "Failed to describe the api-destination(s). An api-destination 'dest' does not exist.",
  )
  e = await failure(env.call('DeleteApiDestination', { Name: 'dest' }))
  assert.equal(
    e.message,
    "Failed to delete the api-destination(s). An api-destination 'dest' does not exist.",
  )
})

test('ListApiDestinations: prefix, connection filter, paging, scope', async () => {
  const env = await setup()
  const { ConnectionArn: a1 } = await env.call('CreateConnection', basic('one'))
  const { ConnectionArn: a2 } = await env.call('CreateConnection', basic('two'))
  for (const n of ['x-3', 'x-1', 'y-1']) await createDestination(env, n, a1 as string)
  await createDestination(env, 'x-2', a2 as string)
  const { ConnectionArn: o } = await env.call('CreateConnection', basic('one'), OTHER)
  await env.call(
    'CreateApiDestination',
    { Name: 'x-0', ConnectionArn: o, InvocationEndpoint: 'https://e.example', HttpMethod: 'GET' },
    OTHER,
  )

  const names = async (input: Input) =>
    ((await env.call('ListApiDestinations', input)).ApiDestinations as { Name: string }[]).map(
      (d) => d.Name,
    )
  assert.deepEqual(await names({}), ['x-1', 'x-2', 'x-3', 'y-1'])
  assert.deepEqual(await names({ NamePrefix: 'x-' }), ['x-1', 'x-2', 'x-3'])
  assert.deepEqual(await names({ ConnectionArn: a1 }), ['x-1', 'x-3', 'y-1'])
  assert.deepEqual(await names({ ConnectionArn: a1, NamePrefix: 'x' }), ['x-1', 'x-3'])

  const p1 = await env.call('ListApiDestinations', { Limit: 3 })
  assert.equal((p1.ApiDestinations as unknown[]).length, 3)
  assert.equal(typeof p1.NextToken, 'string')
  const p2 = await env.call('ListApiDestinations', { Limit: 3, NextToken: p1.NextToken })
  assert.deepEqual(
    (p2.ApiDestinations as { Name: string }[]).map((d) => d.Name),
    ['y-1'],
  )
  assert.equal(p2.NextToken, undefined)
})
