/**
 * Lambda with the AWS SDK for JavaScript v3 (`@aws-sdk/client-lambda`, 3.1164.0) in process,
 * against a `junction serve` process: a function from a zip, read back, its policy, concurrency
 * and tags, errors as the SDK's modelled exception classes with Lambda's statuses, and an
 * invocation of its code (that test needs the process runtime). The package is loaded by name
 * at run time so that the rest of the project typechecks without it.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, REGION } from './scenario.js'

type Command = new (input: Record<string, unknown>) => unknown
type LambdaSdk = Record<string, Command> & {
  LambdaClient: new (config: Record<string, unknown>) => {
    send(command: unknown): Promise<Record<string, unknown>>
    destroy(): void
  }
}

const PACKAGE = '@aws-sdk/client-lambda'
const arnOf = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`

let server: ServerProcess
let sdk: LambdaSdk
let client: InstanceType<LambdaSdk['LambdaClient']>
let zip: Buffer

const send = (name: string, input: Record<string, unknown>) => client.send(new sdk[name]!(input))

async function rejects(
  p: Promise<unknown>,
  name: string,
  status: number,
  message: string | RegExp,
): Promise<void> {
  try {
    await p
  } catch (e) {
    const err = e as { name: string; message: string; $metadata: { httpStatusCode: number } }
    assert.equal(err.name, name)
    assert.equal(err.$metadata.httpStatusCode, status)
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return
  }
  assert.fail(`expected ${name}`)
}

before(async () => {
  sdk = (await import(PACKAGE)) as LambdaSdk
  server = await startServerProcess()
  client = new sdk.LambdaClient({
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'anything' },
  })
  const dir = mkdtempSync(join(tmpdir(), 'junction-lambda-js-'))
  writeFileSync(
    join(dir, 'index.mjs'),
    'export const handler = async (event) => ({ doubled: event.n * 2 })\n',
  )
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'code.zip', 'index.mjs'], { cwd: dir })
  zip = readFileSync(join(dir, 'code.zip'))
})
after(async () => {
  client.destroy()
  assert.equal(await server.stop(), 0, server.output())
})

describe('Lambda with the JS SDK', () => {
  test('CreateFunction, GetFunction, ListFunctions', async () => {
    const created = await send('CreateFunctionCommand', {
      FunctionName: 'doubler',
      Runtime: 'nodejs22.x',
      Role: `arn:aws:iam::${ACCOUNT}:role/lambda`,
      Handler: 'index.handler',
      Code: { ZipFile: zip },
    })
    assert.equal(created.FunctionArn, arnOf('doubler'))
    assert.equal(created.State, 'Active')
    const got = await send('GetFunctionCommand', { FunctionName: arnOf('doubler') })
    assert.equal((got.Configuration as { Runtime: string }).Runtime, 'nodejs22.x')
    const listed = await send('ListFunctionsCommand', {})
    assert.ok(
      (listed.Functions as { FunctionName: string }[]).some((f) => f.FunctionName === 'doubler'),
    )
  })

  test('errors are modelled exceptions', async () => {
    await rejects(
      send('GetFunctionCommand', { FunctionName: 'nobody' }),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf('nobody')}`,
    )
    await rejects(
      send('PutFunctionEventInvokeConfigCommand', {
        FunctionName: 'doubler',
        MaximumRetryAttempts: 5,
      }),
      'ValidationException',
      400,
      /^1 validation error detected: Value '5' at 'maximumRetryAttempts'/,
    )
  })

  test('AddPermission, PutFunctionConcurrency, TagResource', async () => {
    const added = await send('AddPermissionCommand', {
      FunctionName: 'doubler',
      StatementId: 'rule',
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    })
    assert.deepEqual((JSON.parse(added.Statement as string) as { Principal: unknown }).Principal, {
      Service: 'events.amazonaws.com',
    })
    const c = await send('PutFunctionConcurrencyCommand', {
      FunctionName: 'doubler',
      ReservedConcurrentExecutions: 2,
    })
    assert.equal(c.ReservedConcurrentExecutions, 2)
    await send('TagResourceCommand', { Resource: arnOf('doubler'), Tags: { a: 'b' } })
    assert.deepEqual((await send('ListTagsCommand', { Resource: arnOf('doubler') })).Tags, {
      a: 'b',
    })
  })

  test('Invoke runs the code (needs the process runtime)', async () => {
    const r = await send('InvokeCommand', {
      FunctionName: 'doubler',
      Payload: Buffer.from('{"n":21}'),
    })
    assert.equal(r.StatusCode, 200)
    assert.equal(r.ExecutedVersion, '$LATEST')
    assert.deepEqual(JSON.parse(Buffer.from(r.Payload as Uint8Array).toString('utf8')), {
      doubled: 42,
    })
  })
})
