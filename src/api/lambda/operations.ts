/**
 * @module
 * Lambda's operations over the {@link Functions} registry: functions, code, configuration,
 * resource policy, reserved concurrency, tags, asynchronous-invocation settings, event source
 * mappings, and Invoke (the runner for `RequestResponse`, the asynchronous invoker for `Event`).
 * Constraint failures answer in Lambda's wording (`1 validation error detected: …`).
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { CodeError, storeCode } from '../../functions/code.js'
import { codeDirectoryProblem, hashDirectory, HOT_RELOAD_BUCKET } from '../../functions/code-dir.js'
import type { AsyncInvoker } from '../../functions/directory.js'
import { functionArn, functionKey, type Functions } from '../../functions/functions.js'
import type { EventSourceMapping, FunctionRecord, PolicyStatement } from '../../functions/model.js'
import { checkPattern } from '../../pattern/index.js'
import type { FunctionRunner } from '../../functions/runner.js'
import type { Scope } from '../../model.js'
import type { QueueService } from '../../queue/service.js'
import { Constraints, invalidParameter, LambdaError } from './errors.js'
import { configuration, eventInvokeConfig, mapping } from './shapes.js'

export type LambdaServices = {
  directory: Functions
  runner: FunctionRunner
  async: AsyncInvoker
}

export type LambdaRequest = {
  scope: Scope
  requestId: string
  functions: LambdaServices
  queues: QueueService
  now: number
  /** The path's `{FunctionName}`, `{StatementId}`, `{UUID}` or `{Resource}`, decoded. */
  params: { name?: string; sid?: string; uuid?: string; resource?: string }
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: Buffer
  /** `http://host:port` as the client reached the server (for `Code.Location`). */
  origin: string
}

export type LambdaResponse = {
  status: number
  body?: unknown
  headers?: Record<string, string>
  /** Instead of a body: a stream of lines (`junction logs --follow`) until the client leaves. */
  stream?: (write: (line: string) => void) => () => void
}

export type LambdaOperation = (r: LambdaRequest) => Promise<LambdaResponse> | LambdaResponse

const FUNCTION_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?'
const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+'
const MODEL_RUNTIMES = [
  'nodejs',
  'nodejs4.3',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'nodejs16.x',
  'java8',
  'java8.al2',
  'java11',
  'python2.7',
  'python3.6',
  'python3.7',
  'python3.8',
  'python3.9',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
  'dotnet6',
  'dotnet8',
  'nodejs4.3-edge',
  'go1.x',
  'ruby2.5',
  'ruby2.7',
  'provided',
  'provided.al2',
  'nodejs18.x',
  'python3.10',
  'java17',
  'ruby3.2',
  'ruby3.3',
  'ruby3.4',
  'python3.11',
  'nodejs20.x',
  'provided.al2023',
  'python3.12',
  'java21',
  'python3.13',
  'nodejs22.x',
  'nodejs24.x',
  'python3.14',
  'java25',
  'dotnet10',
  'ruby4.0',
] as const
/** Runtimes Lambda no longer lets one create or update functions with. */
const BLOCKED_RUNTIMES = new Set([
  'nodejs',
  'nodejs4.3',
  'nodejs4.3-edge',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'nodejs16.x',
  'python2.7',
  'python3.6',
  'python3.7',
  'python3.8',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
  'dotnet6',
  'go1.x',
  'ruby2.5',
  'ruby2.7',
  'java8',
  'provided',
])
/** Variables Lambda sets itself; a function may not set them (Lambda's reserved keys). */
const RESERVED_ENV = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]
/** Lambda's payload limits: 6 MB synchronous; 1 MB asynchronous (since 2026-01-29). */
const MAX_SYNC_PAYLOAD = 6_291_456
const MAX_ASYNC_PAYLOAD = 1_048_576

let pythonRuntime: string | undefined
/** The `python3.x` this machine's `/usr/bin/python3` is (the only Python runtime it can run). */
function localPython(): string {
  if (pythonRuntime === undefined) {
    try {
      const v = execFileSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' })
      const m = /Python 3\.(\d+)/.exec(v)
      pythonRuntime = m ? `python3.${m[1]!}` : ''
    } catch {
      pythonRuntime = ''
    }
  }
  return pythonRuntime
}

export function supportedRuntimes(): string[] {
  const py = localPython()
  return ['nodejs20.x', 'nodejs22.x', ...(py ? [py] : []), 'provided.al2', 'provided.al2023']
}

function checkRuntime(runtime: string): void {
  const c = new Constraints()
  c.enumeration(runtime, 'runtime', MODEL_RUNTIMES)
  c.check()
  if (supportedRuntimes().includes(runtime)) return
  if (BLOCKED_RUNTIMES.has(runtime)) {
    const newer = runtime.startsWith('nodejs')
      ? 'nodejs22.x'
      : runtime.startsWith('python')
        ? localPython() || 'python3.13'
        : runtime.startsWith('provided')
          ? 'provided.al2023'
          : undefined
    throw invalidParameter(
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use ${newer ? `the new runtime (${newer})` : 'a supported runtime'} while creating or updating functions.`,
    )
  }
  throw invalidParameter(
    `The runtime parameter of ${runtime} is not supported by this server. It runs ${supportedRuntimes().join(', ')}.`,
  )
}

// ── reading the request ──────────────────────────────────────────────────────

type Json = Record<string, unknown>

function json(r: LambdaRequest): Json {
  const text = r.body.toString('utf8')
  if (text.trim() === '') return {}
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new LambdaError(
      'InvalidRequestContentException',
      'Could not parse request body into json',
    )
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new LambdaError(
      'InvalidRequestContentException',
      'Could not parse request body into json',
    )
  return v as Json
}

const str = (v: unknown, member: string): string | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw invalidParameter(`${member} must be a string.`)
  return v
}
const int = (v: unknown, member: string): number | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw invalidParameter(`${member} must be an integer.`)
  return v
}
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined)
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined

/** A function's name from a name, a partial ARN or an ARN, with its qualifier. */
function parseFunctionName(
  scope: Scope,
  raw: string,
  member = 'functionName',
): { scope: Scope; name: string; qualifier?: string } {
  const c = new Constraints()
  c.length(raw, member, 1, 140)
  c.pattern(raw, member, FUNCTION_NAME_PATTERN)
  c.check()
  const m =
    /^(?:arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:|(\d{12}):function:|function:)?([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(
      raw,
    )
  if (!m) throw invalidParameter(`Invalid function name: ${raw}`)
  const [, region, arnAccount, partialAccount, name, qualifier] = m
  return {
    scope: {
      account: arnAccount ?? partialAccount ?? scope.account,
      region: region ?? scope.region,
    },
    name: name!,
    ...(qualifier === undefined ? {} : { qualifier }),
  }
}

/** The function the path names (`$LATEST` is the only version there is). */
function target(r: LambdaRequest, options: { invoke?: boolean } = {}): FunctionRecord {
  const parsed = parseFunctionName(r.scope, r.params.name ?? '')
  const qualifier = r.query.get('Qualifier') ?? parsed.qualifier
  const arn = functionArn(parsed.scope, parsed.name)
  const shown = qualifier === undefined ? arn : `${arn}:${qualifier}`
  const fn = r.functions.directory.get(parsed.scope, parsed.name)
  if (!fn || (qualifier !== undefined && qualifier !== '$LATEST'))
    throw new LambdaError('ResourceNotFoundException', `Function not found: ${shown}`)
  if (parsed.scope.account !== r.scope.account) {
    // Another account's function: only Invoke, and only when its resource policy allows it.
    const allowed =
      options.invoke === true &&
      r.functions.directory.allowsInvoke(fn, { principal: r.scope.account })
    if (!allowed) throw new LambdaError('ResourceNotFoundException', `Function not found: ${shown}`)
  }
  return fn
}

function checkRevision(fn: FunctionRecord, revisionId: string | undefined): void {
  if (revisionId !== undefined && revisionId !== fn.revisionId)
    throw new LambdaError(
      'PreconditionFailedException',
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    )
}

// ── functions ────────────────────────────────────────────────────────────────

type Settings = {
  runtime?: string
  role?: string
  handler?: string
  description?: string
  timeout?: number
  memorySize?: number
  environment?: Record<string, string>
  deadLetterArn?: string | null
}

/** The configuration members CreateFunction and UpdateFunctionConfiguration share. */
function readSettings(body: Json): Settings {
  const s: Settings = {}
  const runtime = str(body.Runtime, 'Runtime')
  const role = str(body.Role, 'Role')
  const handler = str(body.Handler, 'Handler')
  const description = str(body.Description, 'Description')
  const timeout = int(body.Timeout, 'Timeout')
  const memorySize = int(body.MemorySize, 'MemorySize')
  const c = new Constraints()
  c.pattern(role, 'role', ROLE_PATTERN)
  c.length(handler, 'handler', 0, 128)
  c.pattern(handler === '' ? undefined : handler, 'handler', '[^\\s]+')
  c.length(description, 'description', 0, 256)
  c.range(timeout, 'timeout', 1, 900)
  c.range(memorySize, 'memorySize', 128, 32768)
  c.check()
  if (memorySize !== undefined && memorySize > 10_240)
    throw invalidParameter(
      "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240",
    )
  if (runtime !== undefined) {
    checkRuntime(runtime)
    s.runtime = runtime
  }
  if (role !== undefined) s.role = role
  if (handler !== undefined) s.handler = handler
  if (description !== undefined) s.description = description
  if (timeout !== undefined) s.timeout = timeout
  if (memorySize !== undefined) s.memorySize = memorySize
  const env = obj(body.Environment)
  if (env) s.environment = readEnvironment(env.Variables)
  const dlc = obj(body.DeadLetterConfig)
  if (dlc) {
    const arn = str(dlc.TargetArn, 'TargetArn')
    if (arn === undefined || arn === '') s.deadLetterArn = null
    else if (!/^arn:aws[a-zA-Z-]*:(sqs|sns):[a-z0-9-]+:\d{12}:.+$/.test(arn))
      throw invalidParameter(
        `The provided target ARN ${arn} is not a valid SQS queue or SNS topic ARN.`,
      )
    else s.deadLetterArn = arn
  }
  return s
}

function readEnvironment(v: unknown): Record<string, string> {
  const vars = obj(v) ?? {}
  const out: Record<string, string> = {}
  for (const [k, value] of Object.entries(vars)) {
    if (typeof value !== 'string')
      throw invalidParameter(`Environment variable ${k} must be a string.`)
    const c = new Constraints()
    c.pattern(k, 'environment.variables', '[a-zA-Z]([a-zA-Z0-9_])+')
    c.check()
    out[k] = value
  }
  const reserved = Object.keys(out).filter((k) => RESERVED_ENV.includes(k))
  if (reserved.length > 0)
    throw invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    )
  const size = Buffer.byteLength(JSON.stringify(out))
  if (size > 4096)
    throw invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(out)}`,
    )
  return out
}

function readTags(v: unknown): Record<string, string> {
  const tags = obj(v) ?? {}
  const out: Record<string, string> = {}
  for (const [k, value] of Object.entries(tags)) {
    if (typeof value !== 'string') throw invalidParameter(`Tag ${k} must be a string.`)
    out[k] = value
  }
  return out
}

function apply(fn: FunctionRecord, s: Settings): FunctionRecord {
  const next: FunctionRecord = {
    ...fn,
    ...(s.runtime === undefined ? {} : { runtime: s.runtime }),
    ...(s.role === undefined ? {} : { role: s.role }),
    ...(s.handler === undefined ? {} : { handler: s.handler }),
    ...(s.description === undefined ? {} : { description: s.description }),
    ...(s.timeout === undefined ? {} : { timeout: s.timeout }),
    ...(s.memorySize === undefined ? {} : { memorySize: s.memorySize }),
    ...(s.environment === undefined ? {} : { environment: s.environment }),
  }
  if (s.deadLetterArn === null) delete next.deadLetterArn
  else if (s.deadLetterArn !== undefined) next.deadLetterArn = s.deadLetterArn
  return next
}

/**
 * The package: `ZipFile` (unpacked under the data directory) or, as LocalStack mounts code,
 * `S3Bucket: "hot-reload"` with `S3Key` an absolute local directory, used in place and watched.
 */
async function readCode(
  r: LambdaRequest,
  code: Json | undefined,
  name: string,
  scope: Scope,
): Promise<{ sha256: string; size: number; dir: string; local: boolean }> {
  const bucket = str(code?.S3Bucket, 'S3Bucket')
  if (bucket === HOT_RELOAD_BUCKET) {
    const dir = str(code?.S3Key, 'S3Key')
    if (dir === undefined)
      throw invalidParameter(
        `With S3Bucket "${HOT_RELOAD_BUCKET}", S3Key must be the absolute path of the code directory.`,
      )
    const problem = await codeDirectoryProblem(dir)
    if (problem !== undefined) throw invalidParameter(problem)
    return { ...(await hashDirectory(dir)), dir, local: true }
  }
  const zip = str(code?.ZipFile, 'ZipFile')
  if (zip === undefined)
    throw invalidParameter(
      `Please provide the function code as Code.ZipFile, or a local directory as S3Bucket "${HOT_RELOAD_BUCKET}" with S3Key its absolute path (other S3 buckets and images are not supported here).`,
    )
  try {
    const bytes = Buffer.from(zip, 'base64')
    const stored = await storeCode(r.functions.directory.codeRoot, { ...scope, name }, bytes)
    // Checked (it unpacked) before it is shared; shared before the function is stored, so no
    // node ever knows a function whose package it cannot get.
    await r.functions.directory.sharedCode?.put(bytes)
    return { ...stored, local: false }
  } catch (e) {
    if (e instanceof CodeError) throw new LambdaError(e.code, e.message)
    throw e
  }
}

export const createFunction: LambdaOperation = async (r) => {
  const body = json(r)
  const rawName = str(body.FunctionName, 'FunctionName')
  const role = str(body.Role, 'Role')
  const c = new Constraints()
  if (rawName === undefined) c.add('null', 'functionName', 'Member must not be null')
  if (role === undefined) c.add('null', 'role', 'Member must not be null')
  c.check()
  const parsed = parseFunctionName(r.scope, rawName!)
  if (parsed.qualifier !== undefined || parsed.scope.account !== r.scope.account)
    throw invalidParameter(`Invalid function name: ${rawName!}`)
  const name = parsed.name
  if (str(body.PackageType, 'PackageType') === 'Image')
    throw invalidParameter('Container images are not supported here: use PackageType Zip.')
  const settings = readSettings(body)
  if (settings.runtime === undefined)
    throw invalidParameter(
      'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
    )
  if (settings.handler === undefined && !settings.runtime.startsWith('provided'))
    throw invalidParameter(
      'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
    )
  const scope = r.scope
  if (r.functions.directory.get(scope, name))
    throw new LambdaError('ResourceConflictException', `Function already exist: ${name}`)
  const code = await readCode(r, obj(body.Code), name, scope)
  // Checked again: the code was unpacked meanwhile and another create may have won.
  if (r.functions.directory.get(scope, name))
    throw new LambdaError('ResourceConflictException', `Function already exist: ${name}`)
  const fn = apply(
    {
      key: functionKey(scope, name),
      account: scope.account,
      region: scope.region,
      name,
      arn: functionArn(scope, name),
      runtime: settings.runtime,
      role: role!,
      description: '',
      timeout: 3,
      memorySize: 128,
      environment: {},
      tags: readTags(body.Tags),
      codeSha256: code.sha256,
      codeSize: code.size,
      codeDir: code.dir,
      ...(code.local ? { localCode: true as const } : {}),
      revisionId: randomUUID(),
      lastModified: r.now,
      policy: [],
    },
    settings,
  )
  await r.functions.directory.put(fn)
  return { status: 201, body: configuration(fn) }
}

export const getFunction: LambdaOperation = (r) => {
  const fn = target(r)
  if (fn.localCode) {
    // No package to download: the code is the directory itself.
    return {
      status: 200,
      body: {
        Configuration: configuration(fn),
        Code: { RepositoryType: 'S3', Location: `file://${fn.codeDir}` },
        ...(Object.keys(fn.tags).length > 0 ? { Tags: fn.tags } : {}),
        ...(fn.reservedConcurrency === undefined
          ? {}
          : { Concurrency: { ReservedConcurrentExecutions: fn.reservedConcurrency } }),
      },
    }
  }
  const hex = Buffer.from(fn.codeSha256, 'base64').toString('hex')
  const path = `/2015-03-31/functions/${encodeURIComponent(fn.name)}/code-package/${hex}.zip`
  const token = r.functions.directory.codeToken(fn, hex)
  return {
    status: 200,
    body: {
      Configuration: configuration(fn),
      Code: {
        RepositoryType: 'S3',
        Location: `${r.origin}${path}?account=${fn.account}&region=${fn.region}&token=${token}`,
      },
      ...(Object.keys(fn.tags).length > 0 ? { Tags: fn.tags } : {}),
      ...(fn.reservedConcurrency === undefined
        ? {}
        : { Concurrency: { ReservedConcurrentExecutions: fn.reservedConcurrency } }),
    },
  }
}

export const getFunctionConfiguration: LambdaOperation = (r) => ({
  status: 200,
  body: configuration(target(r)),
})

export const listFunctions: LambdaOperation = (r) => {
  const maxItems = r.query.get('MaxItems')
  const max = maxItems === null ? 50 : Number(maxItems)
  const c = new Constraints()
  if (!Number.isInteger(max)) c.add(maxItems, 'maxItems', 'Member must be an integer')
  else c.range(max, 'maxItems', 1, 10_000)
  c.check()
  const marker = r.query.get('Marker')
  const all = r.functions.directory.list(r.scope)
  let start = 0
  if (marker !== null) {
    const after = Buffer.from(marker, 'base64url').toString('utf8')
    start = all.findIndex((f) => f.name > after)
    if (start < 0) start = all.length
  }
  const page = all.slice(start, start + max)
  const more = start + max < all.length
  return {
    status: 200,
    body: {
      Functions: page.map(configuration),
      ...(more ? { NextMarker: Buffer.from(page.at(-1)!.name).toString('base64url') } : {}),
    },
  }
}

export const updateFunctionCode: LambdaOperation = async (r) => {
  const fn = target(r)
  const body = json(r)
  checkRevision(fn, str(body.RevisionId, 'RevisionId'))
  const code = await readCode(r, body, fn.name, { account: fn.account, region: fn.region })
  if (body.DryRun === true) return { status: 200, body: configuration(fn) }
  const next: FunctionRecord = {
    ...fn,
    codeSha256: code.sha256,
    codeSize: code.size,
    codeDir: code.dir,
    revisionId: randomUUID(),
    lastModified: r.now,
  }
  // From a zip the local directory is no longer watched (Functions.put stops the watch).
  if (code.local) next.localCode = true
  else delete next.localCode
  await r.functions.directory.put(next)
  r.functions.runner.updated(next)
  return { status: 200, body: configuration(next) }
}

export const updateFunctionConfiguration: LambdaOperation = async (r) => {
  const fn = target(r)
  const body = json(r)
  checkRevision(fn, str(body.RevisionId, 'RevisionId'))
  const next = { ...apply(fn, readSettings(body)), revisionId: randomUUID(), lastModified: r.now }
  await r.functions.directory.put(next)
  r.functions.runner.updated(next)
  return { status: 200, body: configuration(next) }
}

export const deleteFunction: LambdaOperation = async (r) => {
  const fn = target(r)
  await r.functions.directory.delete(fn)
  r.functions.runner.removed(fn.arn)
  return { status: 204 }
}

/**
 * Junction's own: a function's recent log lines, one per line of text; with `follow=true` the
 * answer stays open and new lines follow.
 */
export const functionLogs: LambdaOperation = (r) => {
  const fn = target(r)
  const logs = r.functions.runner.logs(fn.arn)
  const recent = logs.recent(Number(r.query.get('limit') ?? 1000) || 1000)
  const text = recent.map((l) => `${l}\n`).join('')
  if (r.query.get('follow') !== 'true')
    return { status: 200, body: Buffer.from(text), headers: { 'content-type': 'text/plain' } }
  return {
    status: 200,
    headers: { 'content-type': 'text/plain' },
    stream: (write) => {
      if (text !== '') write(text)
      return logs.follow((line) => write(`${line}\n`))
    },
  }
}

// ── invoke ───────────────────────────────────────────────────────────────────

export const invoke: LambdaOperation = async (r) => {
  const fn = target(r, { invoke: true })
  const type = (r.headers['x-amz-invocation-type'] as string | undefined) ?? 'RequestResponse'
  const logType = (r.headers['x-amz-log-type'] as string | undefined) ?? 'None'
  const c = new Constraints()
  c.enumeration(type, 'invocationType', ['Event', 'RequestResponse', 'DryRun'])
  c.enumeration(logType, 'logType', ['None', 'Tail'])
  c.check()
  const limit = type === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD
  if (r.body.length > limit)
    throw new LambdaError(
      'RequestTooLargeException',
      `Request must be smaller than ${String(limit)} bytes for the InvokeFunction operation`,
    )
  const payload = r.body.length === 0 ? Buffer.from('{}') : r.body
  try {
    JSON.parse(payload.toString('utf8'))
  } catch (e) {
    throw new LambdaError(
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${(e as Error).message}`,
    )
  }
  const version = { 'x-amz-executed-version': '$LATEST' }
  if (type === 'DryRun') return { status: 204 }
  if (type === 'Event') {
    await r.functions.async.enqueue(fn, payload.toString('utf8'), r.requestId)
    return { status: 202 }
  }
  if (fn.reservedConcurrency === 0)
    throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded')
  const clientContext = r.headers['x-amz-client-context']
  const outcome = await r.functions.runner.invoke(fn, {
    requestId: r.requestId,
    payload,
    ...(typeof clientContext === 'string' ? { clientContext } : {}),
    tailLog: logType === 'Tail',
  })
  if (outcome.kind === 'throttled') throw throttled(outcome.reason)
  const headers: Record<string, string> = { ...version }
  if (logType === 'Tail' && outcome.logTail !== undefined)
    headers['x-amz-log-result'] = outcome.logTail
  if (outcome.kind === 'function-error') headers['x-amz-function-error'] = 'Unhandled'
  return { status: 200, body: outcome.payload, headers }
}

function throttled(reason: string): LambdaError {
  return new LambdaError('TooManyRequestsException', 'Rate Exceeded.', { Reason: reason })
}

// ── resource policy ──────────────────────────────────────────────────────────

const policyDocument = (fn: FunctionRecord) =>
  JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: fn.policy })

export const addPermission: LambdaOperation = async (r) => {
  const fn = target(r)
  const body = json(r)
  const sid = str(body.StatementId, 'StatementId')
  const action = str(body.Action, 'Action')
  const principal = str(body.Principal, 'Principal')
  const c = new Constraints()
  if (sid === undefined) c.add('null', 'statementId', 'Member must not be null')
  c.length(sid, 'statementId', 1, 100)
  c.pattern(sid, 'statementId', '([a-zA-Z0-9-_]+)')
  if (action === undefined) c.add('null', 'action', 'Member must not be null')
  c.pattern(action, 'action', '(lambda:[*]|lambda:[a-zA-Z]+|[*])')
  if (principal === undefined) c.add('null', 'principal', 'Member must not be null')
  c.pattern(principal, 'principal', '[^\\s]+')
  c.check()
  checkRevision(fn, str(body.RevisionId, 'RevisionId'))
  if (fn.policy.some((s) => s.Sid === sid))
    throw new LambdaError(
      'ResourceConflictException',
      'The statement id (sid) provided already exists. Please specify a new statement id, or remove the existing statement.',
    )
  const condition: Record<string, Record<string, string>> = {}
  const sourceAccount = str(body.SourceAccount, 'SourceAccount')
  const sourceArn = str(body.SourceArn, 'SourceArn')
  const orgId = str(body.PrincipalOrgID, 'PrincipalOrgID')
  if (sourceAccount !== undefined)
    condition.StringEquals = { ...condition.StringEquals, 'AWS:SourceAccount': sourceAccount }
  if (orgId !== undefined)
    condition.StringEquals = { ...condition.StringEquals, 'aws:PrincipalOrgID': orgId }
  if (sourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': sourceArn }
  const statement: PolicyStatement = {
    Sid: sid!,
    Effect: 'Allow',
    Principal: principalOf(principal!),
    Action: action!,
    Resource: fn.arn,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  }
  await r.functions.directory.put({ ...fn, policy: [...fn.policy, statement] })
  return { status: 201, body: { Statement: JSON.stringify(statement) } }
}

/** AddPermission's principal as IAM writes it: a service, an account's root, an ARN, or `*`. */
function principalOf(p: string): PolicyStatement['Principal'] {
  if (p === '*') return '*'
  if (/^\d{12}$/.test(p)) return { AWS: `arn:aws:iam::${p}:root` }
  if (p.startsWith('arn:')) return { AWS: p }
  return { Service: p }
}

export const getPolicy: LambdaOperation = (r) => {
  const fn = target(r)
  if (fn.policy.length === 0)
    throw new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.')
  return { status: 200, body: { Policy: policyDocument(fn), RevisionId: fn.revisionId } }
}

export const removePermission: LambdaOperation = async (r) => {
  const fn = target(r)
  const sid = r.params.sid ?? ''
  checkRevision(fn, r.query.get('RevisionId') ?? undefined)
  if (fn.policy.length === 0)
    throw new LambdaError(
      'ResourceNotFoundException',
      'No policy is associated with the given resource.',
    )
  if (!fn.policy.some((s) => s.Sid === sid))
    throw new LambdaError(
      'ResourceNotFoundException',
      `Statement ${sid} is not found in resource policy.`,
    )
  await r.functions.directory.put({ ...fn, policy: fn.policy.filter((s) => s.Sid !== sid) })
  return { status: 204 }
}

// ── concurrency ──────────────────────────────────────────────────────────────

export const putFunctionConcurrency: LambdaOperation = async (r) => {
  const fn = target(r)
  const n = int(json(r).ReservedConcurrentExecutions, 'ReservedConcurrentExecutions')
  const c = new Constraints()
  if (n === undefined) c.add('null', 'reservedConcurrentExecutions', 'Member must not be null')
  c.range(n, 'reservedConcurrentExecutions', 0)
  c.check()
  const next = { ...fn, reservedConcurrency: n! }
  await r.functions.directory.put(next)
  r.functions.runner.updated(next)
  return { status: 200, body: { ReservedConcurrentExecutions: n } }
}

export const getFunctionConcurrency: LambdaOperation = (r) => {
  const fn = target(r)
  return {
    status: 200,
    body:
      fn.reservedConcurrency === undefined
        ? {}
        : { ReservedConcurrentExecutions: fn.reservedConcurrency },
  }
}

export const deleteFunctionConcurrency: LambdaOperation = async (r) => {
  const fn = target(r)
  const next = { ...fn }
  delete next.reservedConcurrency
  await r.functions.directory.put(next)
  r.functions.runner.updated(next)
  return { status: 204 }
}

// ── tags ─────────────────────────────────────────────────────────────────────

function tagged(r: LambdaRequest): FunctionRecord {
  const arn = r.params.resource ?? ''
  const m = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)$/.exec(arn)
  if (!m) throw invalidParameter(`Invalid ARN: ${arn}`)
  const fn = r.functions.directory.get({ region: m[1]!, account: m[2]! }, m[3]!)
  if (!fn || m[2] !== r.scope.account)
    throw new LambdaError('ResourceNotFoundException', `Function not found: ${arn}`)
  return fn
}

export const listTags: LambdaOperation = (r) => ({ status: 200, body: { Tags: tagged(r).tags } })

export const tagResource: LambdaOperation = async (r) => {
  const fn = tagged(r)
  const tags = { ...fn.tags, ...readTags(json(r).Tags) }
  if (Object.keys(tags).length > 50)
    throw invalidParameter('Number of tags exceeds resource tag limit.')
  await r.functions.directory.put({ ...fn, tags })
  return { status: 204 }
}

export const untagResource: LambdaOperation = async (r) => {
  const fn = tagged(r)
  const keys = new Set(r.query.getAll('tagKeys'))
  const tags = Object.fromEntries(Object.entries(fn.tags).filter(([k]) => !keys.has(k)))
  await r.functions.directory.put({ ...fn, tags })
  return { status: 204 }
}

// ── asynchronous invocation settings ─────────────────────────────────────────

function readInvokeConfig(fn: FunctionRecord, body: Json, merge: boolean, now: number) {
  const retries = int(body.MaximumRetryAttempts, 'MaximumRetryAttempts')
  const age = int(body.MaximumEventAgeInSeconds, 'MaximumEventAgeInSeconds')
  const c = new Constraints()
  c.range(retries, 'maximumRetryAttempts', 0, 2)
  c.range(age, 'maximumEventAgeInSeconds', 60, 21_600)
  c.check()
  const destinations = obj(body.DestinationConfig)
  const destination = (key: 'OnSuccess' | 'OnFailure') => {
    const arn = str(obj(destinations?.[key])?.Destination, 'Destination')
    if (arn === undefined) return undefined
    const s3 = key === 'OnFailure' && /^arn:aws[a-zA-Z-]*:s3:::[^/]+$/.test(arn)
    if (!s3 && !/^arn:aws[a-zA-Z-]*:(sqs|sns|lambda|events):[a-z0-9-]+:\d{12}:.+$/.test(arn))
      throw invalidParameter(
        `The destination ARN ${arn} is invalid: it must be an SQS queue, SNS topic, Lambda function or EventBridge event bus (or, on failure, an S3 bucket).`,
      )
    return arn
  }
  const base = merge ? fn.eventInvokeConfig : undefined
  const onSuccess = destination('OnSuccess') ?? (destinations ? undefined : base?.onSuccess)
  const onFailure = destination('OnFailure') ?? (destinations ? undefined : base?.onFailure)
  const maximumRetryAttempts = retries ?? base?.maximumRetryAttempts
  const maximumEventAgeInSeconds = age ?? base?.maximumEventAgeInSeconds
  return {
    ...(maximumRetryAttempts === undefined ? {} : { maximumRetryAttempts }),
    ...(maximumEventAgeInSeconds === undefined ? {} : { maximumEventAgeInSeconds }),
    ...(onSuccess === undefined ? {} : { onSuccess }),
    ...(onFailure === undefined ? {} : { onFailure }),
    lastModified: now,
  }
}

export const putFunctionEventInvokeConfig: LambdaOperation = async (r) => {
  const fn = target(r)
  const next = { ...fn, eventInvokeConfig: readInvokeConfig(fn, json(r), false, r.now) }
  await r.functions.directory.put(next)
  return { status: 200, body: eventInvokeConfig(next) }
}

export const updateFunctionEventInvokeConfig: LambdaOperation = async (r) => {
  const fn = target(r)
  const next = { ...fn, eventInvokeConfig: readInvokeConfig(fn, json(r), true, r.now) }
  await r.functions.directory.put(next)
  return { status: 200, body: eventInvokeConfig(next) }
}

function withInvokeConfig(r: LambdaRequest): FunctionRecord {
  const fn = target(r)
  if (!fn.eventInvokeConfig)
    throw new LambdaError(
      'ResourceNotFoundException',
      `The function ${fn.arn}:$LATEST doesn't have an EventInvokeConfig`,
    )
  return fn
}

export const getFunctionEventInvokeConfig: LambdaOperation = (r) => ({
  status: 200,
  body: eventInvokeConfig(withInvokeConfig(r)),
})

export const deleteFunctionEventInvokeConfig: LambdaOperation = async (r) => {
  const fn = withInvokeConfig(r)
  const next = { ...fn }
  delete next.eventInvokeConfig
  await r.functions.directory.put(next)
  return { status: 204 }
}

// ── event source mappings ────────────────────────────────────────────────────

function theMapping(r: LambdaRequest): EventSourceMapping {
  const uuid = r.params.uuid ?? ''
  const m = r.functions.directory.mapping(uuid)
  if (!m || m.account !== r.scope.account || m.region !== r.scope.region)
    throw new LambdaError(
      'ResourceNotFoundException',
      `The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: ${r.requestId})`,
    )
  return m
}

type MappingSettings = Partial<
  Pick<
    EventSourceMapping,
    'batchSize' | 'maximumBatchingWindowInSeconds' | 'enabled' | 'reportBatchItemFailures'
  >
> & { maximumConcurrency?: number | null; filters?: string[] | null }

/** Lambda's quota of filters per event source mapping. */
const MAX_FILTERS = 5

function readMappingSettings(body: Json): MappingSettings {
  const batchSize = int(body.BatchSize, 'BatchSize')
  const window = int(body.MaximumBatchingWindowInSeconds, 'MaximumBatchingWindowInSeconds')
  const c = new Constraints()
  c.range(batchSize, 'batchSize', 1, 10_000)
  c.range(window, 'maximumBatchingWindowInSeconds', 0, 300)
  const types = body.FunctionResponseTypes
  if (types !== undefined && !Array.isArray(types))
    throw invalidParameter('FunctionResponseTypes must be a list.')
  for (const t of (types ?? []) as unknown[])
    c.enumeration(String(t), 'functionResponseTypes', ['ReportBatchItemFailures'])
  c.check()
  const s: MappingSettings = {}
  if (batchSize !== undefined) s.batchSize = batchSize
  if (window !== undefined) s.maximumBatchingWindowInSeconds = window
  const enabled = bool(body.Enabled)
  if (enabled !== undefined) s.enabled = enabled
  if (types !== undefined) s.reportBatchItemFailures = (types as unknown[]).length > 0
  const scaling = obj(body.ScalingConfig)
  if (scaling) {
    const max = int(scaling.MaximumConcurrency, 'MaximumConcurrency')
    const sc = new Constraints()
    sc.range(max, 'scalingConfig.maximumConcurrency', 2, 1000)
    sc.check()
    s.maximumConcurrency = max ?? null
  }
  if (body.FilterCriteria !== undefined) s.filters = readFilters(body.FilterCriteria)
  return s
}

/** FilterCriteria's patterns; null when it has none (which removes the mapping's filters). */
function readFilters(raw: unknown): string[] | null {
  const criteria = obj(raw)
  if (!criteria) throw invalidParameter('FilterCriteria must be an object.')
  const filters = criteria.Filters ?? []
  if (!Array.isArray(filters)) throw invalidParameter('FilterCriteria.Filters must be a list.')
  if (filters.length > MAX_FILTERS)
    throw invalidParameter(
      `The number of filters exceeds the limit of ${String(MAX_FILTERS)} per event source mapping.`,
    )
  const patterns = filters.map((f: unknown) => {
    const pattern = obj(f)?.Pattern
    if (typeof pattern !== 'string' || checkPattern(pattern) !== null)
      throw invalidParameter('Invalid filter pattern definition.')
    return pattern
  })
  return patterns.length === 0 ? null : patterns
}

/** Lambda's limits between batch size, window and queue type (SQS). */
function checkBatching(m: EventSourceMapping, fifo: boolean): void {
  if (fifo && m.maximumBatchingWindowInSeconds > 0)
    throw invalidParameter('Batching window is not supported for FIFO queues')
  if (fifo && m.batchSize > 10)
    throw invalidParameter('BatchSize must be between 1 and 10 for FIFO queues.')
  if (m.batchSize > 10 && m.maximumBatchingWindowInSeconds < 1)
    throw invalidParameter(
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    )
}

function mappedFunction(r: LambdaRequest, raw: string | undefined): FunctionRecord {
  const c = new Constraints()
  if (raw === undefined) c.add('null', 'functionName', 'Member must not be null')
  c.check()
  const parsed = parseFunctionName(r.scope, raw!)
  const fn = r.functions.directory.get(parsed.scope, parsed.name)
  if (!fn || parsed.scope.account !== r.scope.account)
    throw new LambdaError(
      'ResourceNotFoundException',
      `Function not found: ${functionArn(parsed.scope, parsed.name)}`,
    )
  return fn
}

function applyMapping(m: EventSourceMapping, s: MappingSettings): EventSourceMapping {
  const next: EventSourceMapping = { ...m }
  if (s.batchSize !== undefined) next.batchSize = s.batchSize
  if (s.maximumBatchingWindowInSeconds !== undefined)
    next.maximumBatchingWindowInSeconds = s.maximumBatchingWindowInSeconds
  if (s.enabled !== undefined) next.enabled = s.enabled
  if (s.reportBatchItemFailures !== undefined)
    next.reportBatchItemFailures = s.reportBatchItemFailures
  if (s.maximumConcurrency === null) delete next.maximumConcurrency
  else if (s.maximumConcurrency !== undefined) next.maximumConcurrency = s.maximumConcurrency
  if (s.filters === null) delete next.filters
  else if (s.filters !== undefined) next.filters = s.filters
  return next
}

export const createEventSourceMapping: LambdaOperation = async (r) => {
  const body = json(r)
  const source = str(body.EventSourceArn, 'EventSourceArn')
  if (source === undefined || !source.startsWith('arn:aws:sqs:'))
    throw invalidParameter(
      `Unrecognized event source, must be an SQS queue ARN here: ${source ?? 'null'}`,
    )
  const queue = r.queues.findByArn(source)
  if (!queue)
    throw invalidParameter(
      'Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.',
    )
  const fn = mappedFunction(r, str(body.FunctionName, 'FunctionName'))
  const existing = r.functions.directory
    .mappings()
    .find((m) => m.eventSourceArn === source && m.functionArn === fn.arn)
  if (existing)
    throw new LambdaError(
      'ResourceConflictException',
      `An event source mapping with SQS arn (" ${source} ") and function (" ${fn.name} ") already exists. Please update or delete the existing mapping with UUID ${existing.uuid}`,
    )
  const m = applyMapping(
    {
      uuid: randomUUID(),
      account: r.scope.account,
      region: r.scope.region,
      eventSourceArn: source,
      functionArn: fn.arn,
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      enabled: true,
      reportBatchItemFailures: false,
      lastModified: r.now,
    },
    readMappingSettings(body),
  )
  checkBatching(m, queue.fifo)
  await r.functions.directory.putMapping(m)
  return { status: 202, body: mapping(m, 'Creating') }
}

export const getEventSourceMapping: LambdaOperation = (r) => ({
  status: 200,
  body: mapping(theMapping(r)),
})

export const listEventSourceMappings: LambdaOperation = (r) => {
  const maxItems = r.query.get('MaxItems')
  const max = maxItems === null ? 100 : Number(maxItems)
  const c = new Constraints()
  c.range(Number.isInteger(max) ? max : 0, 'maxItems', 1, 10_000)
  c.check()
  const source = r.query.get('EventSourceArn')
  const name = r.query.get('FunctionName')
  const fnArn =
    name === null
      ? undefined
      : (() => {
          const p = parseFunctionName(r.scope, name)
          return functionArn(p.scope, p.name)
        })()
  const all = r.functions.directory
    .mappings()
    .filter(
      (m) =>
        m.account === r.scope.account &&
        m.region === r.scope.region &&
        (source === null || m.eventSourceArn === source) &&
        (fnArn === undefined || m.functionArn === fnArn),
    )
    .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0))
  const marker = r.query.get('Marker')
  let start = marker === null ? 0 : all.findIndex((m) => m.uuid > marker)
  if (start < 0) start = all.length
  const page = all.slice(start, start + max)
  return {
    status: 200,
    body: {
      EventSourceMappings: page.map((m) => mapping(m)),
      ...(start + max < all.length ? { NextMarker: page.at(-1)!.uuid } : {}),
    },
  }
}

export const updateEventSourceMapping: LambdaOperation = async (r) => {
  const m = theMapping(r)
  const body = json(r)
  const name = str(body.FunctionName, 'FunctionName')
  const next = applyMapping(
    {
      ...m,
      ...(name === undefined ? {} : { functionArn: mappedFunction(r, name).arn }),
      lastModified: r.now,
    },
    readMappingSettings(body),
  )
  checkBatching(next, r.queues.findByArn(m.eventSourceArn)?.fifo ?? false)
  await r.functions.directory.putMapping(next)
  return { status: 202, body: mapping(next, 'Updating') }
}

export const deleteEventSourceMapping: LambdaOperation = async (r) => {
  const m = theMapping(r)
  await r.functions.directory.deleteMapping(m)
  return { status: 202, body: mapping(m, 'Deleting') }
}
