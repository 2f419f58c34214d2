/**
 * `npm run bench:functions`: the function runtime (`src/functions/runtime/`), against baselines
 * measured in the same run. Prints figures; asserts nothing.
 *
 * 1. Warm invoke of a Node.js echo handler (`async (e) => e`, a ~250 B event), sequential:
 *    a. through the runner (`runner.invoke`), in this process;
 *    b. through HTTP: a node:http server in this process calling `runner.invoke` per request,
 *       driven by a keep-alive client (the Lambda API's JSON and SigV4 are not in it);
 *    c. baseline: a bare node:http echo server with the same payload and client.
 *    p50/p99 and invokes/s of each, and ratios to the baseline.
 *    d. end to end through the Lambda API: `POST /2015-03-31/functions/echo/invocations` on a
 *       `junction serve` in this process (SQLite store, sync full, auth off).
 * 2. Cold start (spawn → first answer) of a Node.js and a Python echo function: median of 5.
 * 3. Asynchronous invocation: PutEvents at 100 events/s to a bus whose rule targets a function;
 *    the handler logs when it starts (`performance.timeOrigin + performance.now()`, comparable
 *    across processes) against the time the event was sent: p50/p99 put → handler start.
 *
 * `--invokes N` (default 3000) sets the count per warm phase.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { DEFAULTS } from '../src/config.js'
import { startServer } from '../src/bus.js'
import type { FunctionRecord } from '../src/functions/model.js'
import { createProcessRunner, supportedPythonRuntime } from '../src/functions/runtime/index.js'

const invokes = Number(process.argv[process.argv.indexOf('--invokes') + 1]) || 3000
const payload = Buffer.from(
  JSON.stringify({
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'Order Placed',
    source: 'com.example.orders',
    account: '111122223333',
    time: '2026-12-04T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { orderId: 'o-1234', amount: 42.5, currency: 'EUR' },
  }),
)

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(tmpdir(), 'junction-bench-fn-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text)
  return d
}

let serial = 0
function record(runtime: string, codeDir: string): FunctionRecord {
  const name = `bench-${++serial}`
  return {
    key: `111122223333/eu-west-1/${name}`,
    account: '111122223333',
    region: 'eu-west-1',
    name,
    arn: `arn:aws:lambda:eu-west-1:111122223333:function:${name}`,
    runtime,
    handler: 'index.handler',
    role: 'arn:aws:iam::111122223333:role/bench',
    description: '',
    timeout: 30,
    memorySize: 128,
    environment: {},
    tags: {},
    codeSha256: '',
    codeSize: 0,
    codeDir,
    revisionId: `r${serial}`,
    lastModified: Date.now(),
    policy: [],
  }
}

type Stats = { p50: number; p99: number; perSecond: number }

async function measure(n: number, once: () => Promise<void>): Promise<Stats> {
  for (let i = 0; i < Math.min(200, n); i++) await once()
  const times: number[] = []
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await once()
    times.push(performance.now() - t)
  }
  const total = performance.now() - started
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0
  return { p50: at(0.5), p99: at(0.99), perSecond: (n / total) * 1000 }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
function post(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        agent,
        headers: { 'content-length': payload.length },
      },
      (res) => {
        res.on('data', () => undefined)
        res.on('end', () => {
          resolve()
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

function serve(handle: (body: Buffer) => Promise<Buffer> | Buffer): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void Promise.resolve(handle(Buffer.concat(chunks))).then((out) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.length })
        res.end(out)
      })
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const port = (s: http.Server) => (s.address() as AddressInfo).port
const ms = (x: number) => `${x.toFixed(3)} ms`
function line(label: string, s: Stats, base?: Stats): void {
  const ratio = base
    ? `  (p50 ×${(s.p50 / base.p50).toFixed(2)}, p99 ×${(s.p99 / base.p99).toFixed(2)}, rate ×${(s.perSecond / base.perSecond).toFixed(2)})`
    : ''
  console.log(
    `${label.padEnd(28)} p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  ${Math.round(s.perSecond)} invokes/s${ratio}`,
  )
}

const runner = createProcessRunner({
  endpointUrl: () => 'http://127.0.0.1:1',
  maxInstances: 100,
  idleMs: 600_000,
  log: pino({ level: 'silent' }),
})

const echoNode = dir({ 'index.mjs': 'export const handler = async (event) => event' })
const echoPython = dir({ 'index.py': 'def handler(event, context):\n    return event\n' })
let n = 0
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`

console.log(
  `functions bench: ${invokes} sequential invokes per phase, ${payload.length} B event, node ${process.version}`,
)

const fn = record('nodejs20.x', echoNode)
const direct = await measure(invokes, async () => {
  const out = await runner.invoke(fn, { requestId: id(), payload, tailLog: false })
  if (out.kind !== 'ok') throw new Error(JSON.stringify(out))
})
const front = await serve(async (body) => {
  const out = await runner.invoke(fn, { requestId: id(), payload: body, tailLog: false })
  return out.kind === 'throttled' ? Buffer.from('{}') : out.payload
})
const viaHttp = await measure(invokes, () => post(port(front)))
const bare = await serve((body) => body)
const baseline = await measure(invokes, () => post(port(bare)))
front.close()
bare.close()

console.log('\nwarm invoke (Node.js echo handler)')
line('baseline: bare http echo', baseline)
line('runner.invoke', direct, baseline)
line('http → runner.invoke', viaHttp, baseline)

async function coldStart(runtime: string, codeDir: string): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const f = record(runtime, codeDir)
    const t = performance.now()
    const out = await runner.invoke(f, { requestId: id(), payload, tailLog: false })
    if (out.kind !== 'ok') throw new Error(JSON.stringify(out))
    times.push(performance.now() - t)
    runner.removed(f.arn)
  }
  times.sort((a, b) => a - b)
  return times[2] ?? 0
}

console.log('\ncold start (spawn → first answer, median of 5)')
console.log(`nodejs20.x                   ${ms(await coldStart('nodejs20.x', echoNode))}`)
const python = supportedPythonRuntime()
if (python) console.log(`${python.padEnd(29)}${ms(await coldStart(python, echoPython))}`)
else console.log('python: no /usr/bin/python3')

await runner.close()

// --- through a running server: the Lambda API, and events invoking a function ---
const dataDir = mkdtempSync(path.join(tmpdir(), 'junction-bench-fn-server-'))
const server = await startServer({
  ...DEFAULTS,
  port: 0,
  dataDir,
  logLevel: 'silent',
})
const base = new URL(server.url)
function call(
  method: string,
  pathname: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path: pathname,
        agent,
        headers: { 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
const events = (op: string, input: unknown) =>
  call('POST', '/', JSON.stringify(input), {
    'x-amz-target': `AWSEvents.${op}`,
    'content-type': 'application/x-amz-json-1.1',
  })
async function createFunction(name: string, code: string): Promise<string> {
  const d = dir({ 'index.mjs': code })
  const zip = path.join(d, 'fn.zip')
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', zip, 'index.mjs'], { cwd: d })
  const r = await call(
    'POST',
    '/2015-03-31/functions',
    JSON.stringify({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/bench',
      Handler: 'index.handler',
      Code: { ZipFile: readFileSync(zip).toString('base64') },
    }),
    { 'content-type': 'application/json' },
  )
  if (r.status !== 201) throw new Error(r.text)
  return (JSON.parse(r.text) as { FunctionArn: string }).FunctionArn
}

await createFunction('echo', 'export const handler = async (event) => event')
const viaApi = await measure(invokes, async () => {
  const r = await call('POST', '/2015-03-31/functions/echo/invocations', payload.toString())
  if (r.status !== 200) throw new Error(r.text)
})
console.log('\nwarm invoke through the Lambda API (junction serve, SQLite sync full)')
line('baseline: bare http echo', baseline)
line('Lambda API Invoke', viaApi, baseline)

const asyncArn = await createFunction(
  'started',
  "export const handler = async (e) => { console.log('STARTED', performance.timeOrigin + performance.now() - e.detail.sentAt) }",
)
const rule = JSON.parse(
  (await events('PutRule', { Name: 'to-fn', EventPattern: '{"source":["bench"]}' })).text,
) as { RuleArn: string }
await call(
  'POST',
  '/2015-03-31/functions/started/policy',
  JSON.stringify({
    StatementId: 'events',
    Action: 'lambda:InvokeFunction',
    Principal: 'events.amazonaws.com',
    SourceArn: rule.RuleArn,
  }),
  { 'content-type': 'application/json' },
)
await events('PutTargets', { Rule: 'to-fn', Targets: [{ Id: 'fn', Arn: asyncArn }] })
const delays: number[] = []
const stopFollowing = server.bus.services.functions!.runner.logs(asyncArn).follow((l) => {
  const m = /STARTED ([\d.]+)/.exec(l)
  if (m) delays.push(Number(m[1]))
})
// Two passes at the same rate: the first warms the pool up (instances start as invocations
// overlap, as Lambda's do), the second is measured.
async function sendAt100PerSecond(count: number): Promise<number[]> {
  delays.length = 0
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const wait = start + i * 10 - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    void events('PutEvents', {
      Entries: [
        {
          Source: 'bench',
          DetailType: 'tick',
          Detail: JSON.stringify({ sentAt: performance.timeOrigin + performance.now() }),
        },
      ],
    })
  }
  const deadline = Date.now() + 30_000
  while (delays.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  return [...delays].sort((a, b) => a - b)
}
const asyncCount = 1000
const cold = await sendAt100PerSecond(300)
const warm = await sendAt100PerSecond(asyncCount)
stopFollowing()
const at = (d: number[], q: number) => d[Math.min(d.length - 1, Math.floor(q * d.length))] ?? NaN
console.log('\nasynchronous invocation, PutEvents → handler start, 100 events/s')
console.log(
  `first 300 (pool warming up): p50 ${ms(at(cold, 0.5))}  p99 ${ms(at(cold, 0.99))}  max ${ms(cold.at(-1) ?? NaN)}`,
)
console.log(
  `next ${asyncCount} (${warm.length} started): p50 ${ms(at(warm, 0.5))}  p99 ${ms(at(warm, 0.99))}  max ${ms(warm.at(-1) ?? NaN)}`,
)
await server.close()
agent.destroy()
