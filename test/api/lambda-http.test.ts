/**
 * Lambda's REST-JSON API over real HTTP against a real server: functions from real zips (made by
 * Python's zipfile module), their configuration, code, resource policy, reserved concurrency,
 * tags, asynchronous-invocation settings and event source mappings from a real queue, with the
 * status codes, error codes and messages the Lambda model and documentation give. No invocation
 * here runs code (see the e2e tests for that).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { logs } from '../../src/cli/commands/logs.js'
import { DEFAULTS } from '../../src/config.js'

const ACCOUNT = DEFAULTS.defaultAccount
const REGION = DEFAULTS.region
const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-role`
const arnOf = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`

let running: RunningServer
const work = mkdtempSync(join(tmpdir(), 'junction-lambda-http-'))

/** A zip of the given files, made by Python's zipfile (not by the code under test). */
function zipOf(files: Record<string, string>, name = 'code'): Buffer {
  const dir = mkdtempSync(join(work, `${name}-`))
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  const zip = join(work, `${name}-${String(Math.random()).slice(2)}.zip`)
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', zip, ...Object.keys(files)], {
    cwd: dir,
  })
  return readFileSync(zip)
}

/** A zip whose one entry is named `entry` (a name a shell could not create, like `../x`). */
function zipWithEntry(entry: string): Buffer {
  const zip = join(work, `odd-${String(Math.random()).slice(2)}.zip`)
  execFileSync('/usr/bin/python3', [
    '-c',
    'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr(sys.argv[2], "x")',
    zip,
    entry,
  ])
  return readFileSync(zip)
}

const NODE_CODE = zipOf({ 'index.mjs': 'export const handler = async (e) => ({ echo: e })\n' })

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${running.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })

async function ok(r: Response, status = 200): Promise<Record<string, unknown>> {
  const text = await r.text()
  assert.equal(r.status, status, text)
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
}

/** A refusal: its status, `x-amzn-ErrorType` and the body's message (`message` or `Message`). */
async function refused(r: Response, status: number, code: string): Promise<string> {
  const body = (await r.json()) as { Type?: string; message?: string; Message?: string }
  assert.equal(r.status, status, JSON.stringify(body))
  assert.equal(r.headers.get('x-amzn-errortype'), code)
  assert.equal(body.Type, 'User')
  return body.message ?? body.Message ?? ''
}

const create = (name: string, extra: Record<string, unknown> = {}) =>
  call('POST', '/2015-03-31/functions', {
    FunctionName: name,
    Runtime: 'nodejs20.x',
    Role: ROLE,
    Handler: 'index.handler',
    Code: { ZipFile: NODE_CODE.toString('base64') },
    ...extra,
  })

before(async () => {
  running = await startServer({ ...DEFAULTS, port: 0, store: 'memory', logLevel: 'silent' })
})
after(async () => {
  await running.close()
})

describe('Lambda functions over HTTP', () => {
  test('CreateFunction answers 201 with the configuration Lambda returns', async () => {
    const fn = await ok(
      await create('hello', { Environment: { Variables: { GREETING: 'hi' } } }),
      201,
    )
    assert.equal(fn.FunctionName, 'hello')
    assert.equal(fn.FunctionArn, arnOf('hello'))
    assert.equal(fn.Runtime, 'nodejs20.x')
    assert.equal(fn.Role, ROLE)
    assert.equal(fn.Handler, 'index.handler')
    assert.equal(fn.CodeSize, NODE_CODE.length)
    assert.equal(fn.CodeSha256, createHash('sha256').update(NODE_CODE).digest('base64'))
    assert.equal(fn.Timeout, 3)
    assert.equal(fn.MemorySize, 128)
    assert.equal(fn.Version, '$LATEST')
    assert.equal(fn.State, 'Active')
    assert.equal(fn.LastUpdateStatus, 'Successful')
    assert.equal(fn.PackageType, 'Zip')
    assert.deepEqual(fn.Architectures, ['x86_64'])
    assert.deepEqual(fn.EphemeralStorage, { Size: 512 })
    assert.deepEqual(fn.TracingConfig, { Mode: 'PassThrough' })
    assert.deepEqual(fn.Environment, { Variables: { GREETING: 'hi' } })
    assert.match(String(fn.LastModified), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/)
    assert.equal(typeof fn.RevisionId, 'string')
  })

  test('a second CreateFunction of the same name is a 409 ResourceConflictException', async () => {
    await ok(await create('twice'), 201)
    const message = await refused(await create('twice'), 409, 'ResourceConflictException')
    assert.equal(message, 'Function already exist: twice')
  })

  test('GetFunction by name, partial ARN, ARN and $LATEST; Code.Location serves the zip', async () => {
    await ok(await create('fetched'), 201)
    for (const name of [
      'fetched',
      `${ACCOUNT}:function:fetched`,
      arnOf('fetched'),
      'fetched:$LATEST',
    ]) {
      const got = await ok(await call('GET', `/2015-03-31/functions/${encodeURIComponent(name)}`))
      const conf = got.Configuration as Record<string, unknown>
      assert.equal(conf.FunctionArn, arnOf('fetched'))
      const code = got.Code as { RepositoryType: string; Location: string }
      assert.equal(code.RepositoryType, 'S3')
      const zip = Buffer.from(await (await fetch(code.Location)).arrayBuffer())
      assert.deepEqual(zip, NODE_CODE)
    }
    const wrong = await fetch(
      `${running.url}/2015-03-31/functions/fetched/code-package/${'0'.repeat(64)}.zip?token=x`,
    )
    assert.equal(wrong.status, 403)
  })

  test('an unknown function is a 404 ResourceNotFoundException naming its ARN', async () => {
    const message = await refused(
      await call('GET', '/2015-03-31/functions/nope/configuration'),
      404,
      'ResourceNotFoundException',
    )
    assert.equal(message, `Function not found: ${arnOf('nope')}`)
    const versioned = await refused(
      await call('GET', '/2015-03-31/functions/fetched?Qualifier=7'),
      404,
      'ResourceNotFoundException',
    )
    assert.equal(versioned, `Function not found: ${arnOf('fetched')}:7`)
  })

  test('names and configuration values outside the model are ValidationExceptions', async () => {
    const name = await refused(await create('bad name!'), 400, 'ValidationException')
    assert.match(
      name,
      /^1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
    )
    const two = await refused(
      await create('limits', { Timeout: 0, Description: 'x'.repeat(257) }),
      400,
      'ValidationException',
    )
    assert.match(two, /^2 validation errors detected: /)
    assert.match(
      two,
      /Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1/,
    )
    const runtime = await refused(
      await create('rt', { Runtime: 'cobol85' }),
      400,
      'ValidationException',
    )
    assert.match(
      runtime,
      /^1 validation error detected: Value 'cobol85' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[/,
    )
    assert.match(runtime, /nodejs20\.x/)
  })

  test('a runtime Lambda no longer takes is an InvalidParameterValueException', async () => {
    const message = await refused(
      await create('old', { Runtime: 'nodejs12.x' }),
      400,
      'InvalidParameterValueException',
    )
    assert.match(
      message,
      /^The runtime parameter of nodejs12\.x is no longer supported for creating or updating AWS Lambda functions\./,
    )
  })

  test('reserved environment variables are refused as Lambda refuses them', async () => {
    const message = await refused(
      await create('env', { Environment: { Variables: { AWS_REGION: 'x' } } }),
      400,
      'InvalidParameterValueException',
    )
    assert.match(message, /Reserved keys used in this request: AWS_REGION$/)
  })

  test('a zip whose entries leave its directory, or that is no zip, is refused', async () => {
    for (const zip of [zipWithEntry('../escape.js'), Buffer.from('not a zip at all')]) {
      await refused(
        await create(`slip${String(zip.length)}`, { Code: { ZipFile: zip.toString('base64') } }),
        400,
        'InvalidParameterValueException',
      )
    }
  })

  test('ListFunctions pages with MaxItems and Marker; MaxItems must be 1-10000', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await ok(await create(n), 201)
    const seen: string[] = []
    let marker: string | undefined
    do {
      const q = marker === undefined ? '' : `&Marker=${encodeURIComponent(marker)}`
      const page = await ok(await call('GET', `/2015-03-31/functions/?MaxItems=2${q}`))
      const fns = page.Functions as { FunctionName: string }[]
      assert.ok(fns.length <= 2)
      seen.push(...fns.map((f) => f.FunctionName))
      marker = page.NextMarker as string | undefined
    } while (marker !== undefined)
    assert.deepEqual(
      seen.filter((n) => n.startsWith('page-')),
      ['page-a', 'page-b', 'page-c'],
    )
    assert.equal(new Set(seen).size, seen.length)
    await refused(
      await call('GET', '/2015-03-31/functions/?MaxItems=0'),
      400,
      'ValidationException',
    )
  })

  test('UpdateFunctionConfiguration and UpdateFunctionCode change the function and its RevisionId', async () => {
    const first = await ok(await create('updated'), 201)
    const conf = await ok(
      await call('PUT', '/2015-03-31/functions/updated/configuration', {
        Timeout: 30,
        MemorySize: 256,
        Description: 'now',
      }),
    )
    assert.equal(conf.Timeout, 30)
    assert.equal(conf.MemorySize, 256)
    assert.equal(conf.Description, 'now')
    assert.notEqual(conf.RevisionId, first.RevisionId)
    const stale = await refused(
      await call('PUT', '/2015-03-31/functions/updated/configuration', {
        Timeout: 5,
        RevisionId: first.RevisionId,
      }),
      412,
      'PreconditionFailedException',
    )
    assert.match(stale, /Revision Id provided does not match/)
    const zip = zipOf({ 'index.mjs': 'export const handler = async () => 2\n' })
    const code = await ok(
      await call('PUT', '/2015-03-31/functions/updated/code', { ZipFile: zip.toString('base64') }),
    )
    assert.equal(code.CodeSha256, createHash('sha256').update(zip).digest('base64'))
    assert.equal(code.CodeSize, zip.length)
    assert.equal(code.Timeout, 30)
  })

  test('DeleteFunction answers 204; the function is gone', async () => {
    await ok(await create('doomed'), 201)
    assert.equal((await call('DELETE', '/2015-03-31/functions/doomed')).status, 204)
    await refused(
      await call('GET', '/2015-03-31/functions/doomed'),
      404,
      'ResourceNotFoundException',
    )
  })
})

describe('resource policy', () => {
  test('AddPermission 201 with the statement; GetPolicy; duplicate Sid 409; RemovePermission 204', async () => {
    await ok(await create('guarded'), 201)
    const rule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/nightly`
    const added = await ok(
      await call('POST', '/2015-03-31/functions/guarded/policy', {
        StatementId: 'events',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: rule,
        SourceAccount: ACCOUNT,
      }),
      201,
    )
    const statement = JSON.parse(added.Statement as string) as Record<string, unknown>
    assert.deepEqual(statement, {
      Sid: 'events',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: arnOf('guarded'),
      Condition: {
        StringEquals: { 'AWS:SourceAccount': ACCOUNT },
        ArnLike: { 'AWS:SourceArn': rule },
      },
    })
    const policy = await ok(await call('GET', '/2015-03-31/functions/guarded/policy'))
    const doc = JSON.parse(policy.Policy as string) as { Version: string; Statement: unknown[] }
    assert.equal(doc.Version, '2012-10-17')
    assert.deepEqual(doc.Statement, [statement])
    assert.equal(typeof policy.RevisionId, 'string')

    const dup = await refused(
      await call('POST', '/2015-03-31/functions/guarded/policy', {
        StatementId: 'events',
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
      }),
      409,
      'ResourceConflictException',
    )
    assert.match(dup, /The statement id \(sid\) provided already exists/)

    // What the event side asks: the service from that rule, in that account, may invoke.
    const directory = running.bus.services.functions!.directory
    const fn = directory.byArn(arnOf('guarded'))!
    assert.equal(
      directory.allowsInvoke(fn, {
        principal: 'events.amazonaws.com',
        sourceArn: rule,
        sourceAccount: ACCOUNT,
      }),
      true,
    )
    assert.equal(
      directory.allowsInvoke(fn, {
        principal: 'events.amazonaws.com',
        sourceArn: `${rule}-other`,
        sourceAccount: ACCOUNT,
      }),
      false,
    )
    assert.equal(directory.allowsInvoke(fn, { principal: 'sns.amazonaws.com' }), false)
    assert.equal(directory.allowsInvoke(fn, { principal: '999999999999' }), false)

    assert.equal((await call('DELETE', '/2015-03-31/functions/guarded/policy/events')).status, 204)
    await refused(
      await call('GET', '/2015-03-31/functions/guarded/policy'),
      404,
      'ResourceNotFoundException',
    )
  })

  test('ArnLike takes wildcards; an account principal is its root', async () => {
    await ok(await create('wild'), 201)
    await ok(
      await call('POST', '/2015-03-31/functions/wild/policy', {
        StatementId: 'any-rule',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/*`,
      }),
      201,
    )
    const added = await ok(
      await call('POST', '/2015-03-31/functions/wild/policy', {
        StatementId: 'partner',
        Action: 'lambda:InvokeFunction',
        Principal: '222222222222',
      }),
      201,
    )
    assert.deepEqual((JSON.parse(added.Statement as string) as { Principal: unknown }).Principal, {
      AWS: 'arn:aws:iam::222222222222:root',
    })
    const directory = running.bus.services.functions!.directory
    const fn = directory.byArn(`${arnOf('wild')}:$LATEST`)!
    const ruleArn = `arn:aws:events:${REGION}:${ACCOUNT}:rule/any/thing`
    assert.equal(
      directory.allowsInvoke(fn, { principal: 'events.amazonaws.com', sourceArn: ruleArn }),
      true,
    )
    assert.equal(directory.allowsInvoke(fn, { principal: '222222222222' }), true)
  })
})

describe('concurrency, tags, event invoke config', () => {
  test('PutFunctionConcurrency 0 throttles every synchronous invoke with Lambda reason', async () => {
    await ok(await create('stopped'), 201)
    const put = await ok(
      await call('PUT', '/2017-10-31/functions/stopped/concurrency', {
        ReservedConcurrentExecutions: 0,
      }),
    )
    assert.deepEqual(put, { ReservedConcurrentExecutions: 0 })
    assert.deepEqual(await ok(await call('GET', '/2019-09-30/functions/stopped/concurrency')), {
      ReservedConcurrentExecutions: 0,
    })
    const r = await call('POST', '/2015-03-31/functions/stopped/invocations', '{}')
    const body = (await r.json()) as Record<string, unknown>
    assert.equal(r.status, 429)
    assert.equal(r.headers.get('x-amzn-errortype'), 'TooManyRequestsException')
    assert.equal(body.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded')
    assert.equal(body.message, 'Rate Exceeded.')
    assert.equal((await call('DELETE', '/2017-10-31/functions/stopped/concurrency')).status, 204)
    assert.deepEqual(await ok(await call('GET', '/2019-09-30/functions/stopped/concurrency')), {})
  })

  test('Invoke: DryRun 204; payloads over 6 MB are 413 RequestTooLargeException', async () => {
    await ok(await create('dry'), 201)
    const dry = await call('POST', '/2015-03-31/functions/dry/invocations', '{}', {
      'x-amz-invocation-type': 'DryRun',
    })
    assert.equal(dry.status, 204)
    const big = `"${'x'.repeat(6_291_456)}"`
    const message = await refused(
      await call('POST', '/2015-03-31/functions/dry/invocations', big),
      413,
      'RequestTooLargeException',
    )
    assert.equal(
      message,
      'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    )
  })

  test('TagResource 204, ListTags, UntagResource 204', async () => {
    await ok(await create('tagged', { Tags: { team: 'a' } }), 201)
    const path = `/2017-03-31/tags/${encodeURIComponent(arnOf('tagged'))}`
    assert.equal((await call('POST', path, { Tags: { env: 'dev' } })).status, 204)
    assert.deepEqual(await ok(await call('GET', path)), { Tags: { team: 'a', env: 'dev' } })
    assert.equal((await call('DELETE', `${path}?tagKeys=team`)).status, 204)
    assert.deepEqual(await ok(await call('GET', path)), { Tags: { env: 'dev' } })
  })

  test('event invoke config: put, update merges, get, delete, limits', async () => {
    await ok(await create('async-settings'), 201)
    const path = '/2019-09-25/functions/async-settings/event-invoke-config'
    await refused(await call('GET', path), 404, 'ResourceNotFoundException')
    const dest = `arn:aws:sqs:${REGION}:${ACCOUNT}:failures`
    const put = await ok(
      await call('PUT', path, {
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnFailure: { Destination: dest } },
      }),
    )
    assert.equal(put.MaximumRetryAttempts, 1)
    assert.equal(put.FunctionArn, `${arnOf('async-settings')}:$LATEST`)
    assert.deepEqual(put.DestinationConfig, { OnSuccess: {}, OnFailure: { Destination: dest } })
    const updated = await ok(await call('POST', path, { MaximumEventAgeInSeconds: 120 }))
    assert.equal(updated.MaximumRetryAttempts, 1)
    assert.equal(updated.MaximumEventAgeInSeconds, 120)
    const tooMany = await refused(
      await call('PUT', path, { MaximumRetryAttempts: 3 }),
      400,
      'ValidationException',
    )
    assert.match(
      tooMany,
      /at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2/,
    )
    await refused(
      await call('PUT', path, { MaximumEventAgeInSeconds: 59 }),
      400,
      'ValidationException',
    )
    assert.equal((await call('DELETE', path)).status, 204)
    await refused(await call('GET', path), 404, 'ResourceNotFoundException')
  })
})

describe('event source mappings', () => {
  const sqs = async (action: string, body: unknown) => {
    const r = await fetch(running.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AmazonSQS.${action}`,
      },
      body: JSON.stringify(body),
    })
    assert.equal(r.status, 200)
    return (await r.json()) as Record<string, unknown>
  }

  test('create 202 Creating, get, list, update 202, delete 202; only existing queues', async () => {
    await ok(await create('consumer'), 201)
    await sqs('CreateQueue', { QueueName: 'work' })
    const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:work`
    let changes = 0
    running.bus.services.functions!.directory.onMappingsChanged(() => changes++)
    const created = await ok(
      await call('POST', '/2015-03-31/event-source-mappings/', {
        EventSourceArn: queueArn,
        FunctionName: 'consumer',
      }),
      202,
    )
    assert.equal(created.State, 'Creating')
    assert.equal(created.BatchSize, 10)
    assert.equal(created.FunctionArn, arnOf('consumer'))
    assert.equal(created.EventSourceArn, queueArn)
    assert.equal(changes, 1)
    const uuid = created.UUID as string
    const got = await ok(await call('GET', `/2015-03-31/event-source-mappings/${uuid}`))
    assert.equal(got.State, 'Enabled')
    const listed = await ok(
      await call('GET', '/2015-03-31/event-source-mappings/?FunctionName=consumer'),
    )
    assert.deepEqual(
      (listed.EventSourceMappings as { UUID: string }[]).map((m) => m.UUID),
      [uuid],
    )

    const dup = await refused(
      await call('POST', '/2015-03-31/event-source-mappings/', {
        EventSourceArn: queueArn,
        FunctionName: 'consumer',
      }),
      409,
      'ResourceConflictException',
    )
    assert.match(dup, new RegExp(uuid))

    const window = await refused(
      await call('PUT', `/2015-03-31/event-source-mappings/${uuid}`, { BatchSize: 100 }),
      400,
      'InvalidParameterValueException',
    )
    assert.equal(
      window,
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    )
    const updated = await ok(
      await call('PUT', `/2015-03-31/event-source-mappings/${uuid}`, {
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 5,
        Enabled: false,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 5 },
      }),
      202,
    )
    assert.equal(updated.State, 'Updating')
    assert.deepEqual(updated.FunctionResponseTypes, ['ReportBatchItemFailures'])
    const m = running.bus.services.functions!.directory.mapping(uuid)!
    assert.equal(m.enabled, false)
    assert.equal(m.maximumConcurrency, 5)
    assert.equal(
      (await ok(await call('GET', `/2015-03-31/event-source-mappings/${uuid}`))).State,
      'Disabled',
    )

    const deleted = await ok(await call('DELETE', `/2015-03-31/event-source-mappings/${uuid}`), 202)
    assert.equal(deleted.State, 'Deleting')
    await refused(
      await call('GET', `/2015-03-31/event-source-mappings/${uuid}`),
      404,
      'ResourceNotFoundException',
    )

    await refused(
      await call('POST', '/2015-03-31/event-source-mappings/', {
        EventSourceArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:missing`,
        FunctionName: 'consumer',
      }),
      400,
      'InvalidParameterValueException',
    )
  })
})

describe('persistence', () => {
  test('functions and mappings survive a restart of a SQLite-backed server', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'junction-lambda-data-'))
    const start = () =>
      startServer({ ...DEFAULTS, port: 0, store: 'sqlite', dataDir, logLevel: 'silent' })
    let server = await start()
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) })
    assert.equal(
      (
        await post('/2015-03-31/functions', {
          FunctionName: 'kept',
          Runtime: 'nodejs22.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: NODE_CODE.toString('base64') },
        })
      ).status,
      201,
    )
    await server.close()
    server = await start()
    try {
      const r = await fetch(`${server.url}/2015-03-31/functions/kept`)
      const got = (await r.json()) as {
        Configuration: { Runtime: string }
        Code: { Location: string }
      }
      assert.equal(got.Configuration.Runtime, 'nodejs22.x')
      const zip = Buffer.from(await (await fetch(got.Code.Location)).arrayBuffer())
      assert.deepEqual(zip, NODE_CODE)
    } finally {
      await server.close()
    }
  })
})

describe('junction logs', () => {
  test('an unknown function is an error naming it; a known one answers its lines', async () => {
    const errors: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = (chunk: string | Uint8Array) => {
      errors.push(chunk.toString())
      return true
    }
    let code: number
    try {
      code = await logs({ function: 'nobody', endpointUrl: running.url }, () => undefined)
    } finally {
      process.stderr.write = write
    }
    assert.equal(code, 2)
    assert.equal(
      errors.join(''),
      `ResourceNotFoundException: Function not found: ${arnOf('nobody')}\n`,
    )
    await ok(await create('quiet'), 201)
    const lines: string[] = []
    assert.equal(
      await logs({ function: 'quiet', endpointUrl: running.url }, (l) => lines.push(l)),
      0,
    )
    assert.deepEqual(lines, [])
  })
})
