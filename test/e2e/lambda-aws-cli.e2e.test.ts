/**
 * Lambda end to end with the real AWS CLI v2 (`/usr/bin/aws lambda …`) against a `junction serve`
 * process: a Node.js and a Python function created from zips (`--zip-file fileb://…`), read,
 * listed, updated and deleted; their resource policy, reserved concurrency, tags,
 * asynchronous-invocation settings and an SQS event source mapping; errors with the codes and
 * messages Lambda answers. The `invoke` tests run the functions' code: they need the process
 * runtime (`src/functions/runtime/`).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { awsCli } from '../helpers/aws-cli.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, clientEnv, REGION } from './scenario.js'

const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-role`
const arnOf = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`
const work = mkdtempSync(join(tmpdir(), 'junction-lambda-cli-'))

/** A zip made by Python's zipfile; returns its path. */
function zipOf(name: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, `${name}-`))
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  const zip = join(work, `${name}.zip`)
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', zip, ...Object.keys(files)], {
    cwd: dir,
  })
  return zip
}

const NODE_ZIP = zipOf('node', {
  'index.mjs': [
    'export const handler = async (event, context) => {',
    "  console.log('got', JSON.stringify(event))",
    "  if (event.fail) throw new Error('asked to fail')",
    '  return { echo: event, requestId: context.awsRequestId, fn: context.functionName }',
    '}',
    '',
  ].join('\n'),
})
const PYTHON_ZIP = zipOf('python', {
  'app.py': 'def handler(event, context):\n    return {"py": event, "fn": context.function_name}\n',
})
const PYTHON_RUNTIME = `python3.${/Python 3\.(\d+)/.exec(execFileSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' }))![1]!}`

let server: ServerProcess
let env: NodeJS.ProcessEnv
const { aws, ok } = awsCli(
  () => server.url,
  () => env,
)

/** The CLI fails with 254 on a service error and prints its code, operation and message. */
async function fails(code: string, operation: string, message: string | RegExp, ...args: string[]) {
  const r = await aws(...args)
  assert.equal(r.code, 254, `aws ${args.join(' ')}\n${r.stdout}`)
  const prefix = `An error occurred (${code}) when calling the ${operation} operation: `
  const text = r.stderr.trim()
  assert.ok(text.startsWith(prefix), text)
  if (typeof message === 'string') assert.equal(text.slice(prefix.length), message)
  else assert.match(text.slice(prefix.length), message)
}

before(async () => {
  server = await startServerProcess()
  env = clientEnv()
  await ok(
    'lambda',
    'create-function',
    '--function-name',
    'echo-node',
    '--runtime',
    'nodejs20.x',
    '--role',
    ROLE,
    '--handler',
    'index.handler',
    '--zip-file',
    `fileb://${NODE_ZIP}`,
    '--environment',
    'Variables={GREETING=hello}',
    '--tags',
    'team=core',
  )
  await ok(
    'lambda',
    'create-function',
    '--function-name',
    'echo-python',
    '--runtime',
    PYTHON_RUNTIME,
    '--role',
    ROLE,
    '--handler',
    'app.handler',
    '--zip-file',
    `fileb://${PYTHON_ZIP}`,
  )
})
after(async () => {
  assert.equal(await server.stop(), 0, server.output())
})

describe('functions with the AWS CLI', () => {
  test('get-function and get-function-configuration describe what was created', async () => {
    const got = await ok<{
      Configuration: Record<string, unknown>
      Code: { Location: string }
      Tags: unknown
    }>('lambda', 'get-function', '--function-name', 'echo-node')
    const c = got.Configuration
    assert.equal(c.FunctionArn, arnOf('echo-node'))
    assert.equal(c.Runtime, 'nodejs20.x')
    assert.equal(c.Handler, 'index.handler')
    assert.equal(c.CodeSha256, createHash('sha256').update(readFileSync(NODE_ZIP)).digest('base64'))
    assert.deepEqual(c.Environment, { Variables: { GREETING: 'hello' } })
    assert.deepEqual(got.Tags, { team: 'core' })
    const zip = Buffer.from(await (await fetch(got.Code.Location)).arrayBuffer())
    assert.deepEqual(zip, readFileSync(NODE_ZIP))
    const conf = await ok(
      'lambda',
      'get-function-configuration',
      '--function-name',
      arnOf('echo-python'),
    )
    assert.equal(conf.Runtime, PYTHON_RUNTIME)
    assert.equal(conf.State, 'Active')
  })

  test('list-functions pages through every function', async () => {
    const listed = await ok<{ Functions: { FunctionName: string }[] }>(
      'lambda',
      'list-functions',
      '--page-size',
      '1',
    )
    assert.deepEqual(
      listed.Functions.map((f) => f.FunctionName).filter((n) => n.startsWith('echo-')),
      ['echo-node', 'echo-python'],
    )
  })

  test('errors: unknown function, duplicate, bad runtime, bad name', async () => {
    await fails(
      'ResourceNotFoundException',
      'GetFunction',
      `Function not found: ${arnOf('missing')}`,
      'lambda',
      'get-function',
      '--function-name',
      'missing',
    )
    await fails(
      'ResourceConflictException',
      'CreateFunction',
      'Function already exist: echo-node',
      'lambda',
      'create-function',
      '--function-name',
      'echo-node',
      '--runtime',
      'nodejs20.x',
      '--role',
      ROLE,
      '--handler',
      'index.handler',
      '--zip-file',
      `fileb://${NODE_ZIP}`,
    )
    await fails(
      'InvalidParameterValueException',
      'CreateFunction',
      /^The runtime parameter of python2\.7 is no longer supported for creating or updating AWS Lambda functions\./,
      'lambda',
      'create-function',
      '--function-name',
      'old',
      '--runtime',
      'python2.7',
      '--role',
      ROLE,
      '--handler',
      'app.handler',
      '--zip-file',
      `fileb://${PYTHON_ZIP}`,
    )
  })

  test('update-function-configuration and update-function-code', async () => {
    const conf = await ok(
      'lambda',
      'update-function-configuration',
      '--function-name',
      'echo-python',
      '--timeout',
      '10',
      '--memory-size',
      '256',
      '--description',
      'python echo',
    )
    assert.equal(conf.Timeout, 10)
    assert.equal(conf.MemorySize, 256)
    const code = await ok(
      'lambda',
      'update-function-code',
      '--function-name',
      'echo-python',
      '--zip-file',
      `fileb://${PYTHON_ZIP}`,
    )
    assert.equal(
      code.CodeSha256,
      createHash('sha256').update(readFileSync(PYTHON_ZIP)).digest('base64'),
    )
    assert.equal(code.Timeout, 10)
  })

  test('add-permission, get-policy, remove-permission', async () => {
    const added = await ok<{ Statement: string }>(
      'lambda',
      'add-permission',
      '--function-name',
      'echo-node',
      '--statement-id',
      'from-rule',
      '--action',
      'lambda:InvokeFunction',
      '--principal',
      'events.amazonaws.com',
      '--source-arn',
      `arn:aws:events:${REGION}:${ACCOUNT}:rule/nightly`,
    )
    const statement = JSON.parse(added.Statement) as Record<string, unknown>
    assert.deepEqual(statement.Principal, { Service: 'events.amazonaws.com' })
    assert.deepEqual(statement.Condition, {
      ArnLike: { 'AWS:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/nightly` },
    })
    const policy = await ok<{ Policy: string }>(
      'lambda',
      'get-policy',
      '--function-name',
      'echo-node',
    )
    assert.equal((JSON.parse(policy.Policy) as { Statement: unknown[] }).Statement.length, 1)
    await fails(
      'ResourceConflictException',
      'AddPermission',
      'The statement id (sid) provided already exists. Please specify a new statement id, or remove the existing statement.',
      'lambda',
      'add-permission',
      '--function-name',
      'echo-node',
      '--statement-id',
      'from-rule',
      '--action',
      'lambda:InvokeFunction',
      '--principal',
      's3.amazonaws.com',
    )
    await ok(
      'lambda',
      'remove-permission',
      '--function-name',
      'echo-node',
      '--statement-id',
      'from-rule',
    )
    await fails(
      'ResourceNotFoundException',
      'GetPolicy',
      'The resource you requested does not exist.',
      'lambda',
      'get-policy',
      '--function-name',
      'echo-node',
    )
  })

  test('reserved concurrency, tags and event invoke config', async () => {
    assert.deepEqual(
      await ok(
        'lambda',
        'put-function-concurrency',
        '--function-name',
        'echo-python',
        '--reserved-concurrent-executions',
        '5',
      ),
      { ReservedConcurrentExecutions: 5 },
    )
    assert.deepEqual(
      await ok('lambda', 'get-function-concurrency', '--function-name', 'echo-python'),
      {
        ReservedConcurrentExecutions: 5,
      },
    )
    await ok('lambda', 'delete-function-concurrency', '--function-name', 'echo-python')
    await ok('lambda', 'tag-resource', '--resource', arnOf('echo-python'), '--tags', 'env=test')
    assert.deepEqual(await ok('lambda', 'list-tags', '--resource', arnOf('echo-python')), {
      Tags: { env: 'test' },
    })
    await ok('lambda', 'untag-resource', '--resource', arnOf('echo-python'), '--tag-keys', 'env')
    assert.deepEqual(await ok('lambda', 'list-tags', '--resource', arnOf('echo-python')), {
      Tags: {},
    })
    const put = await ok(
      'lambda',
      'put-function-event-invoke-config',
      '--function-name',
      'echo-python',
      '--maximum-retry-attempts',
      '0',
      '--maximum-event-age-in-seconds',
      '600',
    )
    assert.equal(put.MaximumRetryAttempts, 0)
    assert.equal(put.MaximumEventAgeInSeconds, 600)
    const got = await ok(
      'lambda',
      'get-function-event-invoke-config',
      '--function-name',
      'echo-python',
    )
    assert.equal(got.FunctionArn, `${arnOf('echo-python')}:$LATEST`)
    await ok('lambda', 'delete-function-event-invoke-config', '--function-name', 'echo-python')
  })

  test('event source mapping from a queue: create, get, list, update (filters too), delete', async () => {
    await ok('sqs', 'create-queue', '--queue-name', 'lambda-feed')
    const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:lambda-feed`
    const created = await ok<{ UUID: string; State: string; BatchSize: number }>(
      'lambda',
      'create-event-source-mapping',
      '--function-name',
      'echo-node',
      '--event-source-arn',
      queueArn,
      '--batch-size',
      '5',
    )
    assert.equal(created.State, 'Creating')
    assert.equal(created.BatchSize, 5)
    const got = await ok('lambda', 'get-event-source-mapping', '--uuid', created.UUID)
    assert.equal(got.State, 'Enabled')
    assert.equal(got.FunctionArn, arnOf('echo-node'))
    const listed = await ok<{ EventSourceMappings: { UUID: string }[] }>(
      'lambda',
      'list-event-source-mappings',
      '--event-source-arn',
      queueArn,
    )
    assert.deepEqual(
      listed.EventSourceMappings.map((m) => m.UUID),
      [created.UUID],
    )
    const filter = '{"Filters":[{"Pattern":"{\\"body\\":{\\"kind\\":[\\"order\\"]}}"}]}'
    const filtered = await ok<{ FilterCriteria?: { Filters: { Pattern: string }[] } }>(
      'lambda',
      'update-event-source-mapping',
      '--uuid',
      created.UUID,
      '--filter-criteria',
      filter,
    )
    assert.deepEqual(filtered.FilterCriteria, {
      Filters: [{ Pattern: '{"body":{"kind":["order"]}}' }],
    })
    await fails(
      'InvalidParameterValueException',
      'UpdateEventSourceMapping',
      'Invalid filter pattern definition.',
      'lambda',
      'update-event-source-mapping',
      '--uuid',
      created.UUID,
      '--filter-criteria',
      '{"Filters":[{"Pattern":"{\\"body\\": 3}"}]}',
    )
    const updated = await ok(
      'lambda',
      'update-event-source-mapping',
      '--uuid',
      created.UUID,
      '--no-enabled',
    )
    assert.equal(updated.State, 'Updating')
    assert.equal(
      (await ok('lambda', 'get-event-source-mapping', '--uuid', created.UUID)).State,
      'Disabled',
    )
    const deleted = await ok('lambda', 'delete-event-source-mapping', '--uuid', created.UUID)
    assert.equal(deleted.State, 'Deleting')
  })

  test('delete-function', async () => {
    await ok(
      'lambda',
      'create-function',
      '--function-name',
      'short-lived',
      '--runtime',
      'nodejs22.x',
      '--role',
      ROLE,
      '--handler',
      'index.handler',
      '--zip-file',
      `fileb://${NODE_ZIP}`,
    )
    await ok('lambda', 'delete-function', '--function-name', 'short-lived')
    await fails(
      'ResourceNotFoundException',
      'GetFunction',
      `Function not found: ${arnOf('short-lived')}`,
      'lambda',
      'get-function',
      '--function-name',
      'short-lived',
    )
  })
})
