/**
 * @module
 * The HTTP front door (node:http, for speed): AWS JSON 1.1 on `POST /` dispatched on
 * `X-Amz-Target`, EventBridge Scheduler's REST-JSON paths (`scheduler/handler.ts`), plus `GET /health`, `GET /metrics` and the `GET /tail` event stream.
 * Errors carry the code both as `__type` in the body (what botocore reads) and as the
 * `x-amzn-ErrorType` header (what the JS SDK reads first).
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import {
  isAuthFailure,
  jsonAuthError,
  queryAuthError,
  type AuthFailure,
  type Authenticator,
  type Caller,
} from '../auth/caller.js'
import { BusError } from '../errors.js'
import type { Metrics } from '../observe/metrics.js'
import type { TailHub } from '../observe/tail.js'
import { PatternError } from '../pattern/index.js'
import type { QueueService } from '../queue/service.js'
import { answerArchiveQuery, QUERY_PATH } from './archive-query.js'
import type { Services } from './context.js'
import { operations } from './operations/index.js'
import { busScope } from './operations/wire.js'
import { answerScheduler, isSchedulerPath } from './scheduler/handler.js'
import {
  answerLambda,
  isCodePackage,
  isLambdaPath,
  MAX_LAMBDA_REQUEST,
  serveCodePackage,
} from './lambda/handler.js'
import { CLOCK_PATH, handleClock, type ClockRouteDeps } from './clock-route.js'
import { handleStacks, isStacksPath } from './stacks-route.js'
import { handleSinks, isSinksPath } from './sinks-route.js'
import { handleSources, isSourcesPath } from './sources-route.js'
import { createConsoleRoute, isConsolePath } from './console-route.js'
import {
  answerSqs,
  answerSqsError,
  answerSqsUnavailable,
  SQS_TARGET_PREFIX,
  type SqsRequest,
} from './sqs/handler.js'

const TARGET_PREFIX = 'AWSEvents.'
/** Far above any valid request (PutEvents entries total at most 1 MiB). */
const MAX_BODY = 16 * 1024 * 1024
const JSON_TYPE = 'application/x-amz-json-1.1'

export type HttpDeps = {
  services: Services
  queues: QueueService
  authenticate: Authenticator
  metrics: Metrics
  tail: TailHub
  log: Logger
  /** False while starting, once stopping, and while the store is out of reach: 503s. */
  ready: () => boolean
  /** Why it is not ready, for the 503's message. @default 'The server is stopping.' */
  whyNotReady?: () => string
  /** The server's clock, read and (when manual) moved by `/junction/clock`. */
  clock?: ClockRouteDeps['clock']
  /** Where the built console is (`/console`). @default console/dist of the package */
  consoleDir?: string
}

const notReady = (deps: HttpDeps) => deps.whyNotReady?.() ?? 'The server is stopping.'

export function createRequestListener(deps: HttpDeps) {
  const serveConsole = createConsoleRoute(deps.consoleDir)
  return (req: IncomingMessage, res: ServerResponse): void => {
    const [path = '/', search = ''] = (req.url ?? '/').split('?', 2)
    const sqs = sqsProtocol(req, path, search)
    if (sqs || (req.method === 'POST' && path === '/')) {
      if (!deps.ready()) {
        // Stopping: refuse new work with a status every AWS client retries, and close the
        // connection so the retry goes to the next server (or this one after its restart).
        if (sqs) {
          answerSqsUnavailable(sqs, randomUUID(), res)
          return
        }
        const text = JSON.stringify({
          __type: 'ServiceUnavailable',
          message: notReady(deps),
        })
        res.writeHead(503, {
          'content-type': JSON_TYPE,
          'x-amzn-errortype': 'ServiceUnavailable',
          connection: 'close',
        })
        res.end(text)
        return
      }
      if (sqs) void handleSqs(deps, sqs, path, search, req, res)
      else void handleApi(deps, req, res)
      return
    }
    if (
      req.headers['x-amz-target'] === undefined &&
      isLambdaPath(path) &&
      deps.services.functions
    ) {
      handleLambda(deps, req, res, path, search)
      return
    }
    if (req.headers['x-amz-target'] === undefined && isSchedulerPath(path)) {
      if (!deps.ready()) {
        res.writeHead(503, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'ServiceUnavailable',
          connection: 'close',
        })
        res.end(JSON.stringify({ Message: notReady(deps) }))
        return
      }
      void readBytes(req, res).then(
        (bytes) => {
          const caller = authorize(deps, req, bytes, 'scheduler')
          if (isAuthFailure(caller)) {
            // REST-JSON: the code in x-amzn-ErrorType, `Message` in the body.
            const { code, status } = jsonAuthError(caller)
            res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code })
            res.end(JSON.stringify({ Message: caller.message }))
            return
          }
          const scope = { account: caller.account, region: caller.region }
          return answerScheduler(deps, scope, req, path, search, bytes.toString('utf8'), res)
        },
        () => res.writeHead(413).end(),
      )
      return
    }
    if (req.method === 'GET' && path === '/health') {
      const ok = deps.ready()
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
      res.end(ok ? '{"status":"ok"}' : '{"status":"unavailable"}')
      return
    }
    if (req.method === 'GET' && path === '/metrics') {
      void deps.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': deps.metrics.registry.contentType })
        res.end(text)
      })
      return
    }
    if (req.method === 'GET' && path === '/tail') {
      handleTail(deps, req, res)
      return
    }
    if (path === CLOCK_PATH && deps.clock && deps.ready()) {
      const clock = deps.clock
      const readAuthorized = async (r: IncomingMessage) => {
        const bytes = await readBytes(r, res)
        const caller = authorize(deps, r, bytes, 'events')
        if (isAuthFailure(caller)) throw authError(caller)
        return bytes.toString('utf8')
      }
      void handleClock({ clock, readBody: readAuthorized }, req, res).catch((e: unknown) => {
        if (e instanceof BusError) {
          answerJsonError(res, e)
          return
        }
        deps.log.error({ err: e }, 'clock call failed')
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
      return
    }
    if (isStacksPath(path) && deps.services.stacks && deps.ready()) {
      const stackDeps = {
        stacks: deps.services.stacks,
        exclusive: <T>(fn: () => Promise<T>) => deps.services.registry.exclusive(fn),
        now: () => deps.services.clock.now(),
      }
      ownRoute(deps, req, res, 'stacks', (caller, body) =>
        handleStacks(stackDeps, caller, req, path, body, res),
      )
      return
    }
    if (isSinksPath(path) && deps.services.sinks && deps.ready()) {
      const sinkDeps = {
        sinks: deps.services.sinks,
        exclusive: <T>(fn: () => Promise<T>) => deps.services.registry.exclusive(fn),
        now: () => deps.services.clock.now(),
      }
      ownRoute(deps, req, res, 'sinks', (caller, body) =>
        handleSinks(sinkDeps, caller, req, path, body, res),
      )
      return
    }
    if (isSourcesPath(path) && deps.services.sources && deps.ready()) {
      const sourceDeps = deps.services.sources
      ownRoute(deps, req, res, 'sources', (caller, body) =>
        handleSources(sourceDeps, caller, req.method ?? 'GET', path, search, body, res),
      )
      return
    }
    if (req.method === 'POST' && path === QUERY_PATH) {
      void readBytes(req, res).then(
        (bytes) => {
          const caller = authorize(deps, req, bytes, 'events')
          if (isAuthFailure(caller)) {
            answerJsonError(res, authError(caller))
            return
          }
          // Signed callers query their own account's archives only.
          const ownAccountOnly = deps.authenticate.mode === 'sigv4'
          return answerArchiveQuery(
            deps.services,
            caller,
            bytes.toString('utf8'),
            res,
            deps.log,
            ownAccountOnly,
          )
        },
        () => res.writeHead(413).end(),
      )
      return
    }
    if (isConsolePath(path)) {
      serveConsole(req, res, path)
      return
    }
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end('{"message":"Not found"}')
  }
}

/**
 * Which SQS protocol a request speaks, if any: JSON 1.0 has an `AmazonSQS.` target; the query
 * protocol is a form POST (to `/` or to a queue URL) or a GET with an `Action`.
 */
function sqsProtocol(
  req: IncomingMessage,
  path: string,
  search: string,
): 'json' | 'query' | undefined {
  const target = req.headers['x-amz-target']
  if (typeof target === 'string') return target.startsWith(SQS_TARGET_PREFIX) ? 'json' : undefined
  if (req.method === 'POST')
    return req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
      ? 'query'
      : undefined
  if (req.method === 'GET' && /(^|&)Action=/.test(search)) return 'query'
  return undefined
}

async function handleSqs(
  deps: HttpDeps,
  protocol: 'json' | 'query',
  path: string,
  search: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID()
  let bytes: Buffer
  try {
    bytes = await readBytes(req, res)
  } catch {
    res.writeHead(413).end()
    return
  }
  const caller = authorize(deps, req, bytes, 'sqs')
  if (isAuthFailure(caller)) {
    const json = jsonAuthError(caller)
    const query = queryAuthError(caller)
    answerSqsError(protocol, requestId, res, {
      status: protocol === 'json' ? json.status : query.status,
      jsonType: json.code,
      queryCode: query.code,
      message: caller.message,
      senderFault: true,
    })
    return
  }
  const body = bytes.toString('utf8')
  const request: SqsRequest = { protocol, body, search: req.method === 'GET' ? search : '', path }
  if (protocol === 'json') {
    const target = req.headers['x-amz-target'] as string
    request.target = target.slice(SQS_TARGET_PREFIX.length)
  }
  await answerSqs({ queues: deps.queues, log: deps.log }, request, caller, requestId, req, res)
}

async function handleApi(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID()
  try {
    const bytes = await readBytes(req, res)
    const caller = authorize(deps, req, bytes, 'events')
    if (isAuthFailure(caller)) throw authError(caller)
    const body = bytes.toString('utf8')
    const target = req.headers['x-amz-target']
    const name =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : undefined
    const operation = name === undefined ? undefined : operations.get(name)
    if (!operation) {
      throw new BusError(
        'UnknownOperationException',
        typeof target === 'string'
          ? `Operation ${target} is not supported.`
          : 'Missing X-Amz-Target header.',
      )
    }
    const input = parseBody(body)
    const output = await operation(
      {
        scope: { account: caller.account, region: caller.region },
        requestId,
        services: deps.services,
      },
      input,
    )
    const text = JSON.stringify(output ?? {})
    if (deps.log.isLevelEnabled('debug'))
      deps.log.debug(
        { requestId, operation: name, account: caller.account, status: 200 },
        'request',
      )
    res.writeHead(200, {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
    })
    res.end(text)
  } catch (e) {
    const err = asBusError(e)
    if (err.status >= 500) deps.log.error({ err: e, requestId }, 'internal error')
    else if (deps.log.isLevelEnabled('debug'))
      deps.log.debug(
        { requestId, status: err.status, error: err.code, message: err.message },
        'request refused',
      )
    const text = JSON.stringify({ __type: err.code, message: err.message })
    res.writeHead(err.status, {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': err.code,
    })
    res.end(text)
  }
}

/** Lambda's REST-JSON (`api/lambda/`), signed for service `lambda`. */
function handleLambda(
  deps: HttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  search: string,
): void {
  const fail = (status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code })
    res.end(JSON.stringify({ Type: 'User', message }))
  }
  if (!deps.ready()) {
    res.shouldKeepAlive = false
    fail(503, 'ServiceException', notReady(deps))
    return
  }
  if (isCodePackage(req.method, path)) {
    serveCodePackage(deps.services.functions!, path, search, res)
    return
  }
  // One byte over Lambda's limit is read, so that the operation can say which limit it was.
  void readBytes(req, res, MAX_LAMBDA_REQUEST + 1).then(
    (bytes) => {
      const caller = authorize(deps, req, bytes, 'lambda')
      if (isAuthFailure(caller)) {
        const { code, status } = jsonAuthError(caller)
        fail(status, code, caller.message)
        return
      }
      const scope = { account: caller.account, region: caller.region }
      return answerLambda(deps, scope, req, path, search, bytes, res)
    },
    () =>
      fail(
        413,
        'RequestEntityTooLargeException',
        `Request must be smaller than ${String(MAX_LAMBDA_REQUEST)} bytes for the operation`,
      ),
  )
}

/**
 * One of Junction's own routes (`/junction/stacks`, `/junction/sinks`, `/junction/sources`):
 * the body read, the caller authenticated as for service `events` (signed callers act as their
 * own account only: the caller is their key's account), then `handle`; its BusErrors answered
 * as AWS errors, anything else as a 500 that is logged.
 */
function ownRoute(
  deps: HttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  what: string,
  handle: (caller: Caller, body: string) => Promise<void> | void,
): void {
  void readBytes(req, res)
    .then((bytes) => {
      const caller = authorize(deps, req, bytes, 'events')
      if (isAuthFailure(caller)) {
        answerJsonError(res, authError(caller))
        return
      }
      return handle(caller, bytes.toString('utf8'))
    })
    .catch((e: unknown) => {
      if (e instanceof BusError) {
        answerJsonError(res, e)
        return
      }
      deps.log.error({ err: e }, `${what} call failed`)
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
}

/** The caller of a request whose body has been read, or why it is refused. */
function authorize(
  deps: HttpDeps,
  req: IncomingMessage,
  body: Buffer,
  service: string,
): Caller | AuthFailure {
  return deps.authenticate(
    { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
    service,
  )
}

/** A BusError as EventBridge's JSON, for the routes outside `handleApi`. */
function answerJsonError(res: ServerResponse, err: BusError): void {
  if (res.headersSent) return
  const text = JSON.stringify({ __type: err.code, message: err.message })
  res.writeHead(err.status, {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': err.code,
  })
  res.end(text)
}

/** A JSON-protocol refusal of a request that failed authentication. */
function authError(f: AuthFailure): BusError {
  return new BusError(jsonAuthError(f).code, f.message)
}

function asBusError(e: unknown): BusError {
  if (e instanceof BusError) return e
  if (e instanceof PatternError) return new BusError(e.code, e.message)
  return new BusError('InternalException', 'An internal error occurred.', { cause: e })
}

function parseBody(body: string): Record<string, unknown> {
  if (body.trim() === '') return {}
  let v: unknown
  try {
    v = JSON.parse(body)
  } catch {
    throw new BusError('SerializationException', 'The request body is not valid JSON.')
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new BusError('SerializationException', 'The request body must be a JSON object.')
  return v as Record<string, unknown>
}

/** The body as received: signatures are over its bytes. */
function readBytes(req: IncomingMessage, res: ServerResponse, max = MAX_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Refused before a byte of the body is read when its announced length is already too much;
    // the connection closes after the answer, so the unread body is never taken for a request.
    if (Number(req.headers['content-length'] ?? 0) > max) {
      res.shouldKeepAlive = false
      reject(new BusError('ValidationException', 'Request size exceeds the limit.'))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > max) {
        reject(new BusError('ValidationException', 'Request size exceeds the limit.'))
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => {
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
    })
    req.on('error', reject)
  })
}

/** What a tail reader may fall behind by before lines are dropped. */
const TAIL_BUFFER_BYTES = 8 * 1024 * 1024

/**
 * `GET /tail?bus=NAME[&pattern=P][&account=A][&region=R]`: Server-Sent Events, one `data:` line
 * per event ingested on the bus, `{"event":{…},"rules":["rule", …]}`.
 */
function handleTail(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const caller = authorize(deps, req, Buffer.alloc(0), 'events')
  if (isAuthFailure(caller)) {
    answerJsonError(res, authError(caller))
    return
  }
  // Signed callers tail their own account's buses only.
  const signed = deps.authenticate.mode === 'sigv4'
  const scope = {
    account: (signed ? undefined : url.searchParams.get('account')) ?? caller.account,
    region: url.searchParams.get('region') ?? caller.region,
  }
  const named = busScope(scope, url.searchParams.get('bus') ?? undefined)
  const bus = deps.services.registry.bus(named.scope, named.name)
  const fail = (status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code })
    res.end(JSON.stringify({ __type: code, message }))
  }
  if (!bus) {
    fail(404, 'ResourceNotFoundException', `Event bus ${named.name} does not exist.`)
    return
  }
  // Lines published in one turn of the event loop go out in one write. A reader that falls
  // behind by more than TAIL_BUFFER_BYTES loses lines, and is told how many once it has caught
  // up, rather than the server buffering a slow reader's backlog without bound.
  let pending = ''
  let dropped = 0
  let flushing = false
  const flush = () => {
    flushing = false
    if (pending) res.write(pending)
    pending = ''
  }
  const reportDropped = () => {
    res.write(`: dropped ${String(dropped)} events (the reader fell behind)\n\n`)
    dropped = 0
  }
  let unsubscribe: () => void
  try {
    unsubscribe = deps.tail.subscribe(
      bus.arn,
      url.searchParams.get('pattern') ?? undefined,
      (line) => {
        if (res.writableLength + pending.length > TAIL_BUFFER_BYTES) {
          if (dropped++ === 0) res.once('drain', reportDropped)
          return
        }
        pending += `data: ${line}\n\n`
        if (!flushing) {
          flushing = true
          setImmediate(flush)
        }
      },
    )
  } catch (e) {
    if (e instanceof PatternError) {
      fail(400, e.code, e.message)
      return
    }
    throw e
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  })
  res.write(`: tailing ${bus.arn}\n\n`)
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
  req.on('close', () => {
    clearInterval(keepAlive)
    unsubscribe()
  })
}
