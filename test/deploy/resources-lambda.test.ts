// AWS::Lambda::* provisioners against a real server: functions from a local directory, a zip
// file and inline source (Node.js and Python), invoked through the SDK; updates of code and
// configuration; permissions, event source mappings and invoke configs read back.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  GetEventSourceMappingCommand,
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  InvokeCommand,
} from '@aws-sdk/client-lambda'
import { createHash } from 'node:crypto'
import { TemplateError } from '../../src/deploy/model.js'
import { lambdaEventInvokeConfig } from '../../src/deploy/resources/lambda-event-invoke-config.js'
import { lambdaEventSourceMapping } from '../../src/deploy/resources/lambda-event-source-mapping.js'
import { lambdaCodeChanged, lambdaFunction } from '../../src/deploy/resources/lambda-function.js'
import { lambdaPermission } from '../../src/deploy/resources/lambda-permission.js'
import { sqsQueue } from '../../src/deploy/resources/sqs-queue.js'
import { ACCOUNT, harness, REGION, type Harness } from './resources-helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(() => h.close())

const ROLE = `arn:aws:iam::${ACCOUNT}:role/fn`

async function invoke(name: string, payload: unknown = {}): Promise<unknown> {
  const out = await h.clients.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload) }),
  )
  const text = Buffer.from(out.Payload ?? []).toString()
  assert.equal(out.FunctionError, undefined, text)
  return JSON.parse(text)
}

function write(rel: string, text: string): string {
  const file = join(h.baseDir, rel)
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, text)
  return file
}

/** A zip made by Python's zipfile, not by the code under test. */
function zipOf(dir: string, zipName: string, files: string[]): void {
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', zipName, ...files], { cwd: dir })
}

describe('AWS::Lambda::Function', () => {
  test('code from a directory relative to the template: created, invoked, Ref and Arn', async () => {
    write('src/hello/index.mjs', 'export const handler = async (e) => ({ hello: e.name })\n')
    const ctx = h.ctx('Hello')
    const props = { Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: 'src/hello' }
    const fn = await lambdaFunction.create(ctx, props)
    assert.match(fn.physicalId, /^res-test-Hello-SFX\d{10}$/)
    assert.equal(fn.attributes.Arn, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.physicalId}`)
    assert.deepEqual(await invoke(fn.physicalId, { name: 'A' }), { hello: 'A' })
    const got = await h.clients.lambda.send(new GetFunctionCommand({ FunctionName: fn.physicalId }))
    assert.equal(got.Code?.Location, `file://${join(h.baseDir, 'src/hello')}`)
    await lambdaFunction.delete(ctx, fn, props)
    await assert.rejects(
      h.clients.lambda.send(new GetFunctionCommand({ FunctionName: fn.physicalId })),
      { name: 'ResourceNotFoundException' },
    )
    await lambdaFunction.delete(ctx, fn, props)
  })

  test('inline ZipFile is index.js for Node.js and index.py for Python', async () => {
    const node = await lambdaFunction.create(h.ctx('InlineNode'), {
      FunctionName: 'inline-node',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: { ZipFile: 'exports.handler = async (e) => ({ twice: e.n * 2 })\n' },
    })
    assert.deepEqual(await invoke(node.physicalId, { n: 21 }), { twice: 42 })
    const py = await lambdaFunction.create(h.ctx('InlinePy'), {
      FunctionName: 'inline-py',
      Runtime: 'python3.11',
      Handler: 'index.handler',
      Role: ROLE,
      Code: { ZipFile: 'def handler(event, context):\n    return {"py": event["n"] + 1}\n' },
    })
    assert.deepEqual(await invoke(py.physicalId, { n: 1 }), { py: 2 })
  })

  test('a zip file: an update notices new bytes behind the same path', async () => {
    const dir = join(h.baseDir, 'zipped')
    write('zipped/index.mjs', 'export const handler = async () => "v1"\n')
    zipOf(dir, 'fn.zip', ['index.mjs'])
    const ctx = h.ctx('Zipped')
    const props = {
      FunctionName: 'zipped',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: 'zipped/fn.zip',
      Timeout: '10',
      Environment: { Variables: { COLOUR: 'blue', COUNT: 3 } },
      Tags: [{ Key: 'app', Value: 'widgets' }],
    }
    const fn = await lambdaFunction.create(ctx, props)
    const zipSha = createHash('sha256')
      .update(readFileSync(join(dir, 'fn.zip')))
      .digest('base64')
    assert.equal(fn.attributes.CodeSha256, zipSha)
    assert.equal(await invoke('zipped'), 'v1')
    assert.equal(await lambdaCodeChanged(ctx, fn, props), false)

    write('zipped/index.mjs', 'export const handler = async () => "v2"\n')
    zipOf(dir, 'fn.zip', ['index.mjs'])
    assert.equal(await lambdaCodeChanged(ctx, fn, props), true)
    const next = { ...props, Timeout: 20, Environment: { Variables: { COLOUR: 'red' } }, Tags: [] }
    const updated = await lambdaFunction.update(ctx, fn, props, next)
    assert.notEqual(updated.attributes.CodeSha256, fn.attributes.CodeSha256)
    assert.equal(await invoke('zipped'), 'v2')
    const got = await h.clients.lambda.send(new GetFunctionCommand({ FunctionName: 'zipped' }))
    assert.equal(got.Configuration?.Timeout, 20)
    assert.deepEqual(got.Configuration.Environment, { Variables: { COLOUR: 'red' } })
    assert.equal(got.Tags, undefined)
    assert.equal(await lambdaCodeChanged(ctx, updated, next), false)
  })

  test('reserved concurrency is put, changed and deleted', async () => {
    write('conc/index.mjs', 'export const handler = async () => 1\n')
    const ctx = h.ctx('Conc')
    const props = {
      FunctionName: 'conc',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: 'conc',
      ReservedConcurrentExecutions: 2,
    }
    const fn = await lambdaFunction.create(ctx, props)
    const read = async () =>
      (await h.clients.lambda.send(new GetFunctionCommand({ FunctionName: 'conc' }))).Concurrency
    assert.equal((await read())?.ReservedConcurrentExecutions, 2)
    const none = { ...props, ReservedConcurrentExecutions: undefined }
    await lambdaFunction.update(ctx, fn, props, none)
    assert.equal(await read(), undefined)
  })

  test('S3 code, layers, images and a missing path are clear errors naming the resource', async () => {
    const base = { Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE }
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { ...base, Code: { S3Bucket: 'b', S3Key: 'k.zip' } },
        /Code\.S3Bucket\/S3Key is not supported .*give a local path/,
      ],
      [{ ...base, Code: 's3://bucket/key.zip' }, /not supported .*give a local path/],
      [{ ...base, Code: 'nowhere' }, /no such file or directory: .*nowhere/],
      [{ ...base, Code: 'src/hello/index.mjs' }, /must be a directory or a \.zip file/],
      [
        { ...base, Code: 'src/hello', Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:x:1'] },
        /Layers is not supported/,
      ],
      [{ ...base, Code: 'src/hello', PackageType: 'Image' }, /PackageType Image is not supported/],
      [
        { ...base, Runtime: 'provided.al2023', Code: { ZipFile: 'x' } },
        /needs a Node\.js or Python Runtime/,
      ],
    ]
    for (const [props, message] of cases) {
      await assert.rejects(lambdaFunction.create(h.ctx('Broken'), props), (e: Error) => {
        assert.ok(e instanceof TemplateError, e.message)
        assert.match(e.message, /^line 12: Broken \(AWS::Lambda::Function\): /)
        assert.match(e.message, message)
        return true
      })
    }
  })
})

describe('AWS::Lambda::Permission, EventSourceMapping, EventInvokeConfig', () => {
  let fnName: string
  before(async () => {
    write('target/index.mjs', 'export const handler = async (e) => e\n')
    fnName = (
      await lambdaFunction.create(h.ctx('Target'), {
        FunctionName: 'target',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Code: 'target',
      })
    ).physicalId
  })

  test('a permission is a statement with a generated id; update replaces it; delete removes it', async () => {
    const ctx = h.ctx('Allow')
    const props = {
      FunctionName: fnName,
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/r1`,
      SourceAccount: ACCOUNT,
    }
    const p = await lambdaPermission.create(ctx, props)
    const policy = async () => {
      try {
        const out = await h.clients.lambda.send(new GetPolicyCommand({ FunctionName: fnName }))
        return JSON.parse(out.Policy!) as { Statement: { Sid: string; Condition?: unknown }[] }
      } catch {
        return { Statement: [] }
      }
    }
    let statements = (await policy()).Statement
    assert.deepEqual(
      statements.map((s) => s.Sid),
      [p.physicalId],
    )
    assert.deepEqual(statements[0]!.Condition, {
      ArnLike: { 'AWS:SourceArn': props.SourceArn },
      StringEquals: { 'AWS:SourceAccount': ACCOUNT },
    })
    const next = { ...props, SourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/r2` }
    const q = await lambdaPermission.update(ctx, p, props, next)
    statements = (await policy()).Statement
    assert.equal(statements.length, 1)
    assert.deepEqual(statements[0]!.Condition, {
      ArnLike: { 'AWS:SourceArn': next.SourceArn },
      StringEquals: { 'AWS:SourceAccount': ACCOUNT },
    })
    await lambdaPermission.delete(ctx, q, next)
    assert.deepEqual((await policy()).Statement, [])
    await lambdaPermission.delete(ctx, q, next)
  })

  test('an event source mapping from a queue: Ref the UUID, updated in place, deleted', async () => {
    const queue = await sqsQueue.create(h.ctx('Source'), { QueueName: 'esm-source' })
    const ctx = h.ctx('Mapping')
    const props = {
      EventSourceArn: queue.attributes.Arn,
      FunctionName: fnName,
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 3 },
    }
    const m = await lambdaEventSourceMapping.create(ctx, props)
    assert.match(m.physicalId, /^[0-9a-f-]{36}$/)
    assert.equal(
      m.attributes.EventSourceMappingArn,
      `arn:aws:lambda:${REGION}:${ACCOUNT}:event-source-mapping:${m.physicalId}`,
    )
    const read = () =>
      h.clients.lambda.send(new GetEventSourceMappingCommand({ UUID: m.physicalId }))
    let got = await read()
    assert.equal(got.BatchSize, 5)
    assert.equal(got.MaximumBatchingWindowInSeconds, 1)
    assert.deepEqual(got.FunctionResponseTypes, ['ReportBatchItemFailures'])
    assert.equal(got.ScalingConfig?.MaximumConcurrency, 3)
    const next = {
      EventSourceArn: queue.attributes.Arn,
      FunctionName: fnName,
      BatchSize: '7',
      Enabled: 'false',
    }
    await lambdaEventSourceMapping.update(ctx, m, props, next)
    got = await read()
    assert.equal(got.BatchSize, 7)
    assert.equal(got.State, 'Disabled')
    assert.deepEqual(got.FunctionResponseTypes ?? [], [])
    await lambdaEventSourceMapping.delete(ctx, m, next)
    await assert.rejects(read(), { name: 'ResourceNotFoundException' })
    // FilterCriteria: a pattern string as CloudFormation takes it, one written as an object,
    // then removed by an update without it.
    const filtered = await lambdaEventSourceMapping.create(ctx, {
      ...props,
      FilterCriteria: {
        Filters: [
          { Pattern: '{"body":{"kind":["order"]}}' },
          { Pattern: { body: { kind: ['refund'] } } },
        ],
      },
    })
    const withFilters = await h.clients.lambda.send(
      new GetEventSourceMappingCommand({ UUID: filtered.physicalId }),
    )
    assert.deepEqual(withFilters.FilterCriteria?.Filters, [
      { Pattern: '{"body":{"kind":["order"]}}' },
      { Pattern: '{"body":{"kind":["refund"]}}' },
    ])
    await lambdaEventSourceMapping.update(ctx, filtered, props, props)
    const without = await h.clients.lambda.send(
      new GetEventSourceMappingCommand({ UUID: filtered.physicalId }),
    )
    assert.equal(without.FilterCriteria, undefined)
    await assert.rejects(
      lambdaEventSourceMapping.update(ctx, filtered, props, {
        ...props,
        FilterCriteria: { Filters: [{ Pattern: '{"body":' }] },
      }),
      /Invalid filter pattern definition/,
    )
    await lambdaEventSourceMapping.delete(ctx, filtered, props)
  })

  test('an event invoke config is put, replaced on update and deleted', async () => {
    const dlq = await sqsQueue.create(h.ctx('Failures'), { QueueName: 'eic-failures' })
    const ctx = h.ctx('Async')
    const props = {
      FunctionName: fnName,
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: '120',
      DestinationConfig: { OnFailure: { Destination: dlq.attributes.Arn } },
    }
    const c = await lambdaEventInvokeConfig.create(ctx, props)
    const read = () =>
      h.clients.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: fnName }))
    let got = await read()
    assert.equal(got.MaximumRetryAttempts, 1)
    assert.equal(got.MaximumEventAgeInSeconds, 120)
    assert.equal(got.DestinationConfig?.OnFailure?.Destination, dlq.attributes.Arn)
    const next = { FunctionName: fnName, Qualifier: '$LATEST', MaximumRetryAttempts: 0 }
    await lambdaEventInvokeConfig.update(ctx, c, props, next)
    got = await read()
    assert.equal(got.MaximumRetryAttempts, 0)
    assert.equal(got.DestinationConfig?.OnFailure?.Destination, undefined)
    await lambdaEventInvokeConfig.delete(ctx, c, next)
    await assert.rejects(read(), { name: 'ResourceNotFoundException' })
  })
})
