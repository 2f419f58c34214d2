// Python handlers through the process runner, with the machine's /usr/bin/python3 and the boto3
// it carries (Debian's 1.26, older than AWS_ENDPOINT_URL support, which the runtime adds).
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import type { InvokeOutcome } from '../../src/functions/runner.js'
import { supportedPythonRuntime } from '../../src/functions/runtime/index.js'
import { codeDir, fnRecord, request, runner } from './runtime-helpers.js'

const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = []
const server = createServer((req, res) => {
  let body = ''
  req.on('data', (c: Buffer) => (body += c.toString()))
  req.on('end', () => {
    seen.push({ url: req.url ?? '', headers: req.headers, body })
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
    res.end('{"Entries":[{"EventId":"e-9"}],"FailedEntryCount":0}')
  })
})
let url = ''
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
const r = runner({ endpointUrl: () => url })
after(async () => {
  await r.close()
  server.close()
})

const runtime = supportedPythonRuntime()

function payload(o: InvokeOutcome): unknown {
  assert.notEqual(o.kind, 'throttled')
  return JSON.parse((o as { payload: Buffer }).payload.toString())
}

test('the supported Python runtime is the machine’s /usr/bin/python3', () => {
  assert.match(runtime ?? '', /^python3\.\d+$/)
})

test('a Python handler gets the event and the context; warm reuse', async () => {
  const dir = codeDir({
    'pkg/app.py': `import os
def handler(event, context):
    print("event", event["n"])
    return {"pid": os.getpid(), "event": event, "context": {
        "aws_request_id": context.aws_request_id, "function_name": context.function_name,
        "function_version": context.function_version, "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb, "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name, "remaining": context.get_remaining_time_in_millis()},
        "env": {"region": os.environ["AWS_REGION"], "exec": os.environ["AWS_EXECUTION_ENV"]}}
`,
  })
  const fn = fnRecord('py', runtime!, dir, { handler: 'pkg/app.handler', timeout: 5 })
  const req = request({ n: 1 }, { tailLog: true })
  const first = payload(await r.invoke(fn, req)) as Record<string, Record<string, unknown>>
  assert.deepEqual(first.event, { n: 1 })
  const c = first.context!
  assert.equal(c.aws_request_id, req.requestId)
  assert.equal(c.function_name, 'py')
  assert.equal(c.function_version, '$LATEST')
  assert.equal(c.invoked_function_arn, fn.arn)
  assert.equal(c.memory_limit_in_mb, '128')
  assert.equal(c.log_group_name, '/aws/lambda/py')
  assert.ok(Number(c.remaining) > 4000 && Number(c.remaining) <= 5000)
  assert.deepEqual(first.env, { region: 'eu-west-1', exec: `AWS_Lambda_${runtime!}` })
  assert.ok(r.logs(fn.arn).recent(5).includes('event 1'))
  const second = payload(await r.invoke(fn, request({ n: 2 }))) as { pid: number }
  assert.equal(second.pid, first.pid)
})

test('a raised exception: {errorMessage, errorType, requestId, stackTrace}', async () => {
  const dir = codeDir({
    'index.py': 'def handler(event, context):\n    raise ValueError("no good")\n',
  })
  const fn = fnRecord('py-err', runtime!, dir)
  const req = request({})
  const o = await r.invoke(fn, req)
  assert.equal(o.kind, 'function-error')
  const body = payload(o) as Record<string, unknown>
  assert.equal(body.errorMessage, 'no good')
  assert.equal(body.errorType, 'ValueError')
  assert.equal(body.requestId, req.requestId)
  assert.ok(Array.isArray(body.stackTrace) && body.stackTrace.length > 0)
})

test('init errors: Runtime.ImportModuleError, Runtime.HandlerNotFound', async () => {
  const missing = fnRecord('py-missing', runtime!, codeDir({ 'other.py': '' }))
  const o1 = await r.invoke(missing, request({}))
  assert.equal(o1.kind, 'function-error')
  assert.deepEqual(payload(o1), {
    errorMessage: "Unable to import module 'index': No module named 'index'",
    errorType: 'Runtime.ImportModuleError',
    requestId: '',
    stackTrace: [],
  })
  const noHandler = fnRecord('py-nohandler', runtime!, codeDir({ 'index.py': 'x = 1\n' }))
  const o2 = await r.invoke(noHandler, request({}))
  assert.equal((o2 as { errorType: string }).errorType, 'Runtime.HandlerNotFound')
  assert.equal(
    (payload(o2) as { errorMessage: string }).errorMessage,
    "Handler 'handler' missing on module 'index'",
  )
})

test('boto3 (older than AWS_ENDPOINT_URL support) sends to AWS_ENDPOINT_URL with the account as key id', async () => {
  const dir = codeDir({
    'index.py': `import boto3
client = boto3.client("events")
def handler(event, context):
    out = client.put_events(Entries=[{"Source": "fn.py", "DetailType": "t", "Detail": "{}"}])
    return out["Entries"]
`,
  })
  const fn = fnRecord('py-boto3', runtime!, dir)
  assert.deepEqual(payload(await r.invoke(fn, request({}))), [{ EventId: 'e-9' }])
  const call = seen.find((s) => s.headers['x-amz-target'] === 'AWSEvents.PutEvents')
  assert.ok(call, 'the request reached the endpoint')
  assert.match(
    String(call.headers.authorization),
    /Credential=111122223333\/\d{8}\/eu-west-1\/events\//,
  )
  assert.equal(
    (JSON.parse(call.body) as { Entries: { Source: string }[] }).Entries[0]?.Source,
    'fn.py',
  )
})

test('the logging module in Lambda’s format (root at WARNING); an unserialisable result is Runtime.MarshalError', async () => {
  const dir = codeDir({
    'index.py': `import logging
def handler(event, context):
    logging.getLogger().info("hidden")
    logging.getLogger().warning("seen %s", event["n"])
    return {"s": {1, 2}} if event.get("set") else 1
`,
  })
  const fn = fnRecord('py-logging', runtime!, dir)
  const req = request({ n: 7 }, { tailLog: true })
  const o = await r.invoke(fn, req)
  assert.equal(o.kind, 'ok')
  const lines = Buffer.from((o as { logTail: string }).logTail, 'base64')
    .toString()
    .split('\n')
  assert.ok(
    lines.some((l) =>
      new RegExp(
        `^\\[WARNING\\]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${req.requestId}\\tseen 7$`,
      ).test(l),
    ),
    lines.join('\n'),
  )
  assert.ok(!lines.some((l) => l.includes('hidden')))
  const bad = await r.invoke(fn, request({ n: 1, set: true }))
  assert.equal((bad as { errorType: string }).errorType, 'Runtime.MarshalError')
  assert.match(
    (payload(bad) as { errorMessage: string }).errorMessage,
    /^Unable to marshal response: /,
  )
})
