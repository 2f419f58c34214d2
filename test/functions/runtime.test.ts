// The process runner with real child processes: Node.js (ESM, CommonJS, callbacks), provided
// bootstraps, the pool (warm reuse, limits, idle stop, updates), failures and logs. Expected
// values are Lambda's documented shapes and wordings.
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { InvokeOutcome } from '../../src/functions/runner.js'
import { codeDir, fnRecord, request, runner } from './runtime-helpers.js'

function ok(outcome: InvokeOutcome): unknown {
  assert.equal(outcome.kind, 'ok', JSON.stringify(outcome))
  return JSON.parse((outcome as { payload: Buffer }).payload.toString())
}

function failed(outcome: InvokeOutcome): {
  errorType: string
  errorMessage: string
  trace?: string[]
} {
  assert.equal(outcome.kind, 'function-error', JSON.stringify(outcome))
  const body = JSON.parse((outcome as { payload: Buffer }).payload.toString()) as {
    errorType: string
    errorMessage: string
  }
  assert.equal((outcome as { errorType: string }).errorType, body.errorType)
  return body
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const r = runner()
after(() => r.close())

const echoPid = 'export const handler = async (event) => ({ pid: process.pid, event })'

describe('Node.js handlers', () => {
  test('an ESM handler answers, and the warm instance is reused', async () => {
    const fn = fnRecord('esm', 'nodejs20.x', codeDir({ 'index.mjs': echoPid }))
    const first = ok(await r.invoke(fn, request({ n: 1 }))) as { pid: number; event: unknown }
    const second = ok(await r.invoke(fn, request({ n: 2 }))) as { pid: number; event: unknown }
    assert.deepEqual(first.event, { n: 1 })
    assert.deepEqual(second.event, { n: 2 })
    assert.equal(first.pid, second.pid)
  })

  test('a CommonJS callback handler in a nested path (.js without "type": "module")', async () => {
    const dir = codeDir({
      'src/app.js':
        'exports.handler = (event, context, callback) => { setTimeout(() => callback(null, { got: event.x }), 5) }',
    })
    const fn = fnRecord('cjs', 'nodejs22.x', dir, { handler: 'src/app.handler' })
    assert.deepEqual(ok(await r.invoke(fn, request({ x: 'y' }))), { got: 'y' })
  })

  test('.cjs module, callback error and undefined result', async () => {
    const dir = codeDir({
      'index.cjs':
        'exports.handler = (e, c, cb) => e.fail ? cb(new TypeError("bad input")) : cb(null)',
    })
    const fn = fnRecord('cjs-err', 'nodejs20.x', dir)
    assert.equal(ok(await r.invoke(fn, request({}))), null)
    const err = failed(await r.invoke(fn, request({ fail: true })))
    assert.equal(err.errorType, 'TypeError')
    assert.equal(err.errorMessage, 'bad input')
    assert.ok(err.trace?.[0]?.startsWith('TypeError: bad input'))
  })

  test('the context object and the environment', async () => {
    const dir = codeDir({
      'index.mjs': `export const handler = async (event, context) => ({
        context: { ...context, remaining: context.getRemainingTimeInMillis() },
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) =>
          k.startsWith('AWS_') || k.startsWith('LAMBDA_') || ['_HANDLER', 'TZ', 'MINE', 'LANG'].includes(k))),
        cwd: process.cwd(),
      })`,
    })
    const fn = fnRecord('ctx', 'nodejs20.x', dir, {
      timeout: 7,
      memorySize: 256,
      environment: { MINE: 'yes', AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'nope' },
    })
    const clientContext = Buffer.from(JSON.stringify({ custom: { a: 1 } })).toString('base64')
    const req = request({}, { clientContext })
    const out = ok(await r.invoke(fn, req)) as {
      context: Record<string, unknown>
      env: Record<string, string>
      cwd: string
    }
    const c = out.context
    assert.equal(c.awsRequestId, req.requestId)
    assert.equal(c.functionName, 'ctx')
    assert.equal(c.functionVersion, '$LATEST')
    assert.equal(c.invokedFunctionArn, fn.arn)
    assert.equal(c.memoryLimitInMB, '256')
    assert.equal(c.logGroupName, '/aws/lambda/ctx')
    assert.match(String(c.logStreamName), /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/)
    assert.deepEqual(c.clientContext, { custom: { a: 1 } })
    assert.equal(c.callbackWaitsForEmptyEventLoop, true)
    assert.ok(Number(c.remaining) > 6000 && Number(c.remaining) <= 7000)
    const e = out.env
    assert.equal(e.AWS_LAMBDA_FUNCTION_NAME, 'ctx')
    assert.equal(e.AWS_REGION, 'eu-west-1')
    assert.equal(e.AWS_DEFAULT_REGION, 'eu-west-1')
    assert.equal(e.MINE, 'yes')
    assert.equal(e._HANDLER, 'index.handler')
    assert.equal(e.TZ, ':UTC')
    assert.equal(e.AWS_EXECUTION_ENV, 'AWS_Lambda_nodejs20.x')
    assert.equal(e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256')
    assert.equal(e.LAMBDA_TASK_ROOT, dir)
    assert.equal(e.AWS_ACCESS_KEY_ID, '111122223333')
    assert.equal(e.AWS_ENDPOINT_URL, 'http://127.0.0.1:1')
    assert.match(e.AWS_LAMBDA_RUNTIME_API ?? '', /^127\.0\.0\.1:\d+$/)
    assert.equal(out.cwd, dir)
  })

  test('init errors: missing module, missing handler, syntax error', async () => {
    const missing = fnRecord('no-module', 'nodejs20.x', codeDir({ 'other.mjs': echoPid }))
    const e1 = failed(await r.invoke(missing, request({})))
    assert.equal(e1.errorType, 'Runtime.ImportModuleError')
    assert.match(e1.errorMessage, /^Error: Cannot find module 'index'/)

    const noHandler = fnRecord(
      'no-handler',
      'nodejs20.x',
      codeDir({ 'index.mjs': 'export const other = 1' }),
    )
    const e2 = failed(await r.invoke(noHandler, request({})))
    assert.equal(e2.errorType, 'Runtime.HandlerNotFound')
    assert.equal(e2.errorMessage, 'index.handler is undefined or not exported')

    const syntax = fnRecord(
      'syntax',
      'nodejs20.x',
      codeDir({ 'index.mjs': 'export const handler = (' }),
    )
    const e3 = failed(await r.invoke(syntax, request({})))
    assert.equal(e3.errorType, 'Runtime.UserCodeSyntaxError')
    assert.match(e3.errorMessage, /^SyntaxError: /)

    const dep = fnRecord(
      'no-dep',
      'nodejs20.x',
      codeDir({ 'index.mjs': 'import "left-pad-nowhere"\nexport const handler = () => 1' }),
    )
    const e4 = failed(await r.invoke(dep, request({})))
    assert.equal(e4.errorType, 'Runtime.ImportModuleError')
  })

  test('a handler outside the repository imports the AWS SDK v3 that the runtime provides (ESM and CommonJS)', async () => {
    const seen: { headers: IncomingHttpHeaders; body: string }[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        seen.push({ headers: req.headers, body })
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        res.end('{"Entries":[{"EventId":"e-1"}],"FailedEntryCount":0}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const sdk = runner({ endpointUrl: () => url })
    try {
      const esm = codeDir({
        'index.mjs': `import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'
          const client = new EventBridgeClient({})
          export const handler = async () => (await client.send(new PutEventsCommand({
            Entries: [{ Source: 'fn.esm', DetailType: 't', Detail: '{}' }] }))).Entries`,
      })
      assert.ok(!esm.startsWith(process.cwd()))
      const cjs = codeDir({
        'index.js': `const { SQSClient, ListQueuesCommand } = require('@aws-sdk/client-sqs')
          exports.handler = async () => typeof SQSClient === 'function' && typeof ListQueuesCommand === 'function'`,
      })
      assert.deepEqual(ok(await sdk.invoke(fnRecord('sdk-esm', 'nodejs20.x', esm), request({}))), [
        { EventId: 'e-1' },
      ])
      assert.equal(ok(await sdk.invoke(fnRecord('sdk-cjs', 'nodejs20.x', cjs), request({}))), true)
      assert.equal(seen.length, 1)
      const call = seen[0]!
      assert.equal(call.headers['x-amz-target'], 'AWSEvents.PutEvents')
      assert.match(
        String(call.headers.authorization),
        /Credential=111122223333\/\d{8}\/eu-west-1\/events\//,
      )
      const sent = JSON.parse(call.body) as { Entries: { Source: string }[] }
      assert.equal(sent.Entries[0]?.Source, 'fn.esm')
    } finally {
      await sdk.close()
      server.close()
    }
  })
})

describe('provided runtimes', () => {
  test('the zip’s own bootstrap (a shell script) runs the Runtime API loop', async () => {
    const dir = codeDir(
      {
        bootstrap: `#!/bin/sh
set -eu
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d: -f2 | tr -d '[:space:]')"
  echo "handling $ID"
  curl -sS -o /dev/null -X POST -d "{\\"echo\\":$EVENT,\\"handler\\":\\"$_HANDLER\\"}" "$API/invocation/$ID/response"
done
`,
      },
      ['bootstrap'],
    )
    const fn = fnRecord('provided', 'provided.al2023', dir, { handler: 'function.handler' })
    const req = request({ k: 1 }, { tailLog: true })
    const outcome = await r.invoke(fn, req)
    assert.deepEqual(ok(outcome), { echo: { k: 1 }, handler: 'function.handler' })
    assert.ok(r.logs(fn.arn).recent(10).includes(`handling ${req.requestId}`))
  })
})

describe('failures', () => {
  test('a provided function without an executable bootstrap: Runtime.InvalidEntrypoint', async () => {
    const fn = fnRecord('no-bootstrap', 'provided.al2', codeDir({ 'main.sh': 'echo' }))
    const req = request({})
    const err = failed(await r.invoke(fn, req))
    assert.equal(err.errorType, 'Runtime.InvalidEntrypoint')
    assert.match(
      err.errorMessage,
      new RegExp(`^RequestId: ${req.requestId} Error: Couldn't find valid bootstrap`),
    )
  })

  test('a timeout kills the instance: Sandbox.Timedout in Lambda’s words', async () => {
    const dir = codeDir({
      'index.mjs':
        'export const handler = () => new Promise(() => { setInterval(() => {}, 1000) })',
    })
    const fn = fnRecord('slow', 'nodejs20.x', dir, { timeout: 1 })
    const req = request({})
    const started = Date.now()
    const err = failed(await r.invoke(fn, req))
    assert.ok(Date.now() - started >= 1000)
    assert.deepEqual(err, {
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${req.requestId} Error: Task timed out after 1.00 seconds`,
    })
  })

  test('a crash during an invocation: Runtime.ExitError, and the next invocation starts afresh', async () => {
    const dir = codeDir({
      'index.mjs':
        'export const handler = async (e) => { if (e.exit) process.exit(1); return process.pid }',
    })
    const fn = fnRecord('crash', 'nodejs20.x', dir)
    const pid = ok(await r.invoke(fn, request({}))) as number
    const req = request({ exit: true })
    assert.deepEqual(failed(await r.invoke(fn, req)), {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${req.requestId} Error: Runtime exited with error: exit status 1`,
    })
    assert.notEqual(ok(await r.invoke(fn, request({}))), pid)
  })

  test('a response over 6 MB: Function.ResponseSizeTooLarge', async () => {
    const fn = fnRecord(
      'big',
      'nodejs20.x',
      codeDir({ 'index.mjs': 'export const handler = async () => "x".repeat(6_300_000)' }),
    )
    assert.deepEqual(failed(await r.invoke(fn, request({}))), {
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    })
  })

  test('a process killed by a signal: "signal: killed"', async () => {
    const fn = fnRecord(
      'killed',
      'nodejs20.x',
      codeDir({
        'index.mjs': 'export const handler = async () => process.kill(process.pid, "SIGKILL")',
      }),
    )
    const req = request({})
    assert.equal(
      failed(await r.invoke(fn, req)).errorMessage,
      `RequestId: ${req.requestId} Error: Runtime exited with error: signal: killed`,
    )
  })
})

describe('the pool', () => {
  const sleepy =
    'export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 0)); return process.pid }'

  test('concurrent invocations start more instances, up to the reserved concurrency, then throttle', async () => {
    const fn = fnRecord('reserved', 'nodejs20.x', codeDir({ 'index.mjs': sleepy }), {
      reservedConcurrency: 2,
    })
    const outcomes = await Promise.all([1, 2, 3].map(() => r.invoke(fn, request({ ms: 300 }))))
    const kinds = outcomes.map((o) => o.kind).sort()
    assert.deepEqual(kinds, ['ok', 'ok', 'throttled'])
    assert.deepEqual(
      outcomes.find((o) => o.kind === 'throttled'),
      {
        kind: 'throttled',
        reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      },
    )
    const pids = outcomes.filter((o) => o.kind === 'ok').map((o) => ok(o))
    assert.notEqual(pids[0], pids[1])
    const zero = { ...fn, reservedConcurrency: 0 }
    assert.equal((await r.invoke(zero, request({}))).kind, 'throttled')
  })

  test('the server’s limit across functions: an idle instance gives way, a busy one throttles', async () => {
    const small = runner({ maxInstances: 1 })
    try {
      const a = fnRecord('limit-a', 'nodejs20.x', codeDir({ 'index.mjs': sleepy }))
      const b = fnRecord('limit-b', 'nodejs20.x', codeDir({ 'index.mjs': sleepy }))
      const pidA = ok(await small.invoke(a, request({}))) as number
      const busyB = small.invoke(b, request({ ms: 400 }))
      await sleep(200)
      assert.equal(alive(pidA), false)
      assert.deepEqual(await small.invoke(a, request({})), {
        kind: 'throttled',
        reason: 'ConcurrentInvocationLimitExceeded',
      })
      ok(await busyB)
    } finally {
      await small.close()
    }
  })

  test('an idle instance stops after idleMs', async () => {
    const quick = runner({ idleMs: 150 })
    try {
      const fn = fnRecord('idle', 'nodejs20.x', codeDir({ 'index.mjs': sleepy }))
      const pid = ok(await quick.invoke(fn, request({}))) as number
      assert.equal(alive(pid), true)
      await sleep(500)
      assert.equal(alive(pid), false)
      assert.notEqual(ok(await quick.invoke(fn, request({}))), pid)
    } finally {
      await quick.close()
    }
  })

  test('updated(): a busy old instance finishes its invocation, then stops; new invocations get new instances', async () => {
    const fn = fnRecord('update', 'nodejs20.x', codeDir({ 'index.mjs': sleepy }))
    const oldPid = ok(await r.invoke(fn, request({}))) as number
    const inFlight = r.invoke(fn, request({ ms: 300 }))
    await sleep(50)
    const next = { ...fn, revisionId: `${fn.revisionId}-2` }
    r.updated(next)
    const newPid = ok(await r.invoke(next, request({}))) as number
    assert.notEqual(newPid, oldPid)
    assert.equal(ok(await inFlight), oldPid)
    await sleep(200)
    assert.equal(alive(oldPid), false)
    r.removed(fn.arn)
    await sleep(200)
    assert.equal(alive(newPid), false)
  })
})

describe('logs', () => {
  test('START, the handler’s lines in Lambda’s format, END and REPORT; tail of this invocation only', async () => {
    const dir = codeDir({
      'index.mjs':
        'export const handler = async (e) => { console.log("got", e.n); console.warn("careful\\nsecond line"); return 1 }',
    })
    const fn = fnRecord('logs', 'nodejs20.x', dir, { memorySize: 512 })
    const followed: string[] = []
    const stop = r.logs(fn.arn).follow((line) => followed.push(line))
    const cold = request({ n: 1 }, { tailLog: true })
    const first = await r.invoke(fn, cold)
    const warm = request({ n: 2 }, { tailLog: true })
    const second = await r.invoke(fn, warm)
    stop()
    assert.equal(first.kind, 'ok')
    assert.equal(second.kind, 'ok')
    const lines = (o: InvokeOutcome) =>
      Buffer.from((o as { logTail: string }).logTail, 'base64')
        .toString()
        .trimEnd()
        .split('\n')
    const t1 = lines(first)
    assert.equal(t1[0], `START RequestId: ${cold.requestId} Version: $LATEST`)
    assert.match(
      t1[1] ?? '',
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${cold.requestId}\\tINFO\\tgot 1$`,
      ),
    )
    assert.match(t1[2] ?? '', new RegExp(`\\t${cold.requestId}\\tWARN\\tcareful\\rsecond line$`))
    assert.equal(t1[3], `END RequestId: ${cold.requestId}`)
    assert.match(
      t1[4] ?? '',
      new RegExp(
        `^REPORT RequestId: ${cold.requestId}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 512 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d\\d ms$`,
      ),
    )
    const t2 = lines(second)
    assert.equal(t2.length, 5)
    assert.ok(t2.every((l) => !l.includes(cold.requestId)))
    assert.doesNotMatch(t2[4] ?? '', /Init Duration/)
    assert.deepEqual(r.logs(fn.arn).recent(10), [...t1, ...t2])
    assert.deepEqual(followed, [...t1, ...t2])
    assert.deepEqual(r.logs(fn.arn).recent(2), t2.slice(3))
  })
})
