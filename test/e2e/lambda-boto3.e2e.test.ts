/**
 * Lambda with the real boto3 (Debian's 1.26 under `/usr/bin/python3`): `lambda_boto3.py` makes
 * the calls and prints what botocore parsed. Asserts the REST-JSON wire as botocore reads it:
 * statuses (CreateFunction 201, DeleteFunction 204), errors by `x-amzn-ErrorType` with the
 * model's statuses and modelled exception classes (ResourceConflictException 409,
 * ResourceNotFoundException 404, InvalidParameterValueException 400), paging with Marker.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { runBoto3 } from '../helpers/boto3.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, clientEnv, REGION } from './scenario.js'

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'lambda_boto3.py')
const arnOf = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`

type ServiceError = { Code: string; Message: string; HTTPStatusCode: number; Class: string }
type Outcome = { response: Record<string, unknown>; error?: undefined } | { error: ServiceError }

let server: ServerProcess
let out: Record<string, Outcome>

before(async () => {
  server = await startServerProcess()
  const dir = mkdtempSync(join(tmpdir(), 'junction-lambda-boto3-'))
  writeFileSync(join(dir, 'app.py'), 'def handler(event, context):\n    return event\n')
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'code.zip', 'app.py'], { cwd: dir })
  const version = execFileSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' })
  out = await runBoto3<Record<string, Outcome>>(SCRIPT, 'functions', server.url, clientEnv(), {
    zip: join(dir, 'code.zip'),
    runtime: `python3.${/Python 3\.(\d+)/.exec(version)![1]!}`,
    role: `arn:aws:iam::${ACCOUNT}:role/lambda`,
    account: ACCOUNT,
    arn: arnOf('py-one'),
  })
})
after(async () => {
  assert.equal(await server.stop(), 0, server.output())
})

function response(name: string): Record<string, unknown> {
  const o = out[name]!
  assert.equal(o.error, undefined, `${name}: ${JSON.stringify(o.error)}`)
  return (o as { response: Record<string, unknown> }).response
}

function error(name: string): ServiceError {
  const o = out[name]!
  assert.ok(o.error, `${name} succeeded`)
  return o.error
}

test('functions created, read, updated and paged as botocore parses them', () => {
  const created = response('create')
  assert.equal(created.FunctionArn, arnOf('py-one'))
  assert.equal(created.Timeout, 7)
  assert.equal(created.Handler, 'app.handler')
  const got = response('get')
  assert.equal((got.Configuration as { FunctionName: string }).FunctionName, 'py-one')
  assert.equal((got.Code as { RepositoryType: string }).RepositoryType, 'S3')
  assert.equal(response('update').MemorySize, 512)
  assert.deepEqual(response('listed'), ['py-one', 'py-two'])
})

test('errors are the modelled exceptions with their statuses', () => {
  assert.deepEqual(error('again'), {
    Code: 'ResourceConflictException',
    Message: 'Function already exist: py-one',
    HTTPStatusCode: 409,
    Class: 'ResourceConflictException',
  })
  assert.deepEqual(error('missing'), {
    Code: 'ResourceNotFoundException',
    Message: `Function not found: ${arnOf('py-none')}`,
    HTTPStatusCode: 404,
    Class: 'ResourceNotFoundException',
  })
  const runtime = error('badRuntime')
  assert.equal(runtime.Class, 'InvalidParameterValueException')
  assert.equal(runtime.HTTPStatusCode, 400)
  assert.match(runtime.Message, /^The runtime parameter of nodejs12\.x is no longer supported/)
  assert.equal(error('afterDelete').Code, 'ResourceNotFoundException')
})

test('permission, concurrency, tags and invoke config', () => {
  const statement = JSON.parse(response('permission').Statement as string) as Record<
    string,
    unknown
  >
  assert.deepEqual(statement.Principal, { Service: 'scheduler.amazonaws.com' })
  assert.deepEqual(statement.Condition, { StringEquals: { 'AWS:SourceAccount': ACCOUNT } })
  const policy = JSON.parse(response('policy').Policy as string) as { Statement: unknown[] }
  assert.deepEqual(policy.Statement, [statement])
  assert.equal(response('concurrency').ReservedConcurrentExecutions, 3)
  assert.deepEqual(response('tags').Tags, { k: 'v' })
  assert.equal(response('invokeConfig').MaximumRetryAttempts, 1)
  const invoked = response('invoke') as {
    StatusCode: number
    ExecutedVersion: string
    Payload: unknown
    Log: string
  }
  assert.equal(invoked.StatusCode, 200)
  assert.equal(invoked.ExecutedVersion, '$LATEST')
  assert.deepEqual(invoked.Payload, { n: 5 })
  assert.match(invoked.Log, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/m)
  assert.match(invoked.Log, /^REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms/m)
})
