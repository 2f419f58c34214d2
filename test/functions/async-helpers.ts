/**
 * What the event side needs from functions, built in the test: a directory of function records
 * and mappings, and a runner whose answers the test scripts (the process runner is not here).
 */
import type { FunctionDirectory, InvokePrincipal } from '../../src/functions/directory.js'
import type { EventSourceMapping, FunctionRecord } from '../../src/functions/model.js'
import type { FunctionRunner, InvokeOutcome, InvokeRequest } from '../../src/functions/runner.js'
import { createTestBus, type TestBus } from '../helpers/in-process.js'
import { tempDir } from '../helpers/server.js'

export const ACCOUNT = '111111111111'
export const REGION = 'us-east-1'
export const SCOPE = { account: ACCOUNT, region: REGION }

export function functionRecord(name: string, extra: Partial<FunctionRecord> = {}): FunctionRecord {
  return {
    key: `${ACCOUNT}/${REGION}/${name}`,
    account: ACCOUNT,
    region: REGION,
    name,
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    role: `arn:aws:iam::${ACCOUNT}:role/r`,
    description: '',
    timeout: 3,
    memorySize: 128,
    environment: {},
    tags: {},
    codeSha256: '',
    codeSize: 0,
    codeDir: '/nonexistent',
    revisionId: '1',
    lastModified: 0,
    policy: [],
    ...extra,
  }
}

/** Who may invoke, as `principal|sourceArn` pairs; a simple stand-in for the resource policy. */
export class TestDirectory implements FunctionDirectory {
  readonly functions = new Map<string, FunctionRecord>()
  readonly allowed = new Set<string>()
  private mappingList: EventSourceMapping[] = []
  private listeners: (() => void)[] = []

  add(fn: FunctionRecord): FunctionRecord {
    this.functions.set(fn.arn, fn)
    return fn
  }
  allow(fn: FunctionRecord, principal: string, sourceArn: string): void {
    this.allowed.add(`${fn.arn}|${principal}|${sourceArn}`)
  }
  byArn(arn: string): FunctionRecord | undefined {
    return this.functions.get(arn.replace(/:\$LATEST$/, ''))
  }
  allowsInvoke(fn: FunctionRecord, who: InvokePrincipal): boolean {
    return this.allowed.has(`${fn.arn}|${who.principal}|${who.sourceArn ?? ''}`)
  }
  mappings(): EventSourceMapping[] {
    return this.mappingList
  }
  setMappings(list: EventSourceMapping[]): void {
    this.mappingList = list
    for (const l of this.listeners) l()
  }
  onMappingsChanged(listener: () => void): void {
    this.listeners.push(listener)
  }
}

export type Call = { at: number; request: InvokeRequest; payload: string }

/** Answers each invoke with what `script` returns (by default ok with `null`). */
export class ScriptedRunner implements FunctionRunner {
  readonly calls: Call[] = []
  script: (call: Call, index: number) => InvokeOutcome | Promise<InvokeOutcome> = () => ok('null')
  constructor(private readonly now: () => number) {}

  invoke(_fn: FunctionRecord, request: InvokeRequest): Promise<InvokeOutcome> {
    const call = { at: this.now(), request, payload: request.payload.toString('utf8') }
    this.calls.push(call)
    return Promise.resolve(this.script(call, this.calls.length - 1))
  }
  updated(): void {}
  removed(): void {}
  logs() {
    return { recent: () => [], follow: () => () => undefined }
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

export const ok = (text: string): InvokeOutcome => ({
  kind: 'ok',
  payload: Buffer.from(text),
  durationMs: 1,
})

export const functionError = (message = 'boom'): InvokeOutcome => ({
  kind: 'function-error',
  errorType: 'Error',
  payload: Buffer.from(JSON.stringify({ errorType: 'Error', errorMessage: message, trace: [] })),
  durationMs: 1,
})

export const throttled: InvokeOutcome = {
  kind: 'throttled',
  reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
}

export async function functionsBus(): Promise<{
  bus: TestBus
  directory: TestDirectory
  runner: ScriptedRunner
}> {
  const directory = new TestDirectory()
  const box: { bus?: TestBus } = {}
  const runner = new ScriptedRunner(() => box.bus!.clock.now())
  const bus = await createTestBus({
    store: 'sqlite',
    dataDir: tempDir('junction-fn-'),
    clockKind: 'manual',
    functions: { directory, runner },
  })
  box.bus = bus
  return { bus, directory, runner }
}

/** Waits (real time) until `check` holds: the dispatcher's writes run on the store's thread. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + 3000
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Lets in-flight work settle without the clock moving. */
export const pause = (ms = 50) => new Promise((r) => setTimeout(r, ms))

/** Messages from a queue once there are some (real-time polling, no clock movement). */
export async function arrived(
  bus: TestBus,
  q: Parameters<TestBus['queues']['receive']>[0],
): Promise<Awaited<ReturnType<TestBus['queues']['receive']>>> {
  const until = Date.now() + 3000
  for (;;) {
    const got = await bus.queues.receive(q, { max: 10, waitSeconds: 0 })
    if (got.length > 0) return got
    if (Date.now() > until) throw new Error(`nothing arrived in ${q.arn}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** The invocation record Lambda sends to a destination, as the tests read it. */
export type InvocationRecordJson = {
  version: string
  timestamp: string
  requestContext: {
    requestId: string
    functionArn: string
    condition: string
    approximateInvokeCount: number
  }
  requestPayload: { detail?: { n?: number } }
  responseContext: Record<string, unknown>
  responsePayload?: { errorMessage?: string; done?: boolean }
}
