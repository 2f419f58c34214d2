/**
 * @module
 * Lambda's REST-JSON front door: the operation comes from the method and the path (versioned
 * prefixes as the model has them: `/2015-03-31/functions/{FunctionName}/…`,
 * `/2017-10-31/…/concurrency`, `/2017-03-31/tags/{ARN}`, `/2019-09-25/…/event-invoke-config`,
 * `/2015-03-31/event-source-mappings/…`), parameters from the path, the query string, headers
 * (Invoke's `X-Amz-*`) and the body (JSON, or Invoke's raw payload). Also serves the zip that
 * GetFunction's `Code.Location` names, authorized by the token in that URL as S3 presigns one.
 */
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { BusError } from '../../errors.js'
import type { Scope } from '../../model.js'
import type { QueueService } from '../../queue/service.js'
import type { Services } from '../context.js'
import { LambdaError } from './errors.js'
import * as ops from './operations.js'
import type { LambdaOperation, LambdaResponse } from './operations.js'

/** Lambda's limit on a request (a 50 MB zip, base64, in JSON). */
export const MAX_LAMBDA_REQUEST = 69_905_067

type Route = {
  pattern: RegExp
  /** Names of the pattern's groups, in order. */
  params: ('name' | 'sid' | 'uuid' | 'resource')[]
  methods: Record<string, [operation: string, LambdaOperation]>
}

const F = '/functions/([^/]+)'
const ROUTES: Route[] = [
  {
    pattern: /^\/2015-03-31\/functions\/?$/,
    params: [],
    methods: {
      GET: ['ListFunctions', ops.listFunctions],
      POST: ['CreateFunction', ops.createFunction],
    },
  },
  {
    pattern: new RegExp(`^/2015-03-31${F}/?$`),
    params: ['name'],
    methods: {
      GET: ['GetFunction', ops.getFunction],
      DELETE: ['DeleteFunction', ops.deleteFunction],
    },
  },
  {
    pattern: new RegExp(`^/2015-03-31${F}/configuration/?$`),
    params: ['name'],
    methods: {
      GET: ['GetFunctionConfiguration', ops.getFunctionConfiguration],
      PUT: ['UpdateFunctionConfiguration', ops.updateFunctionConfiguration],
    },
  },
  {
    pattern: new RegExp(`^/2015-03-31${F}/code/?$`),
    params: ['name'],
    methods: { PUT: ['UpdateFunctionCode', ops.updateFunctionCode] },
  },
  {
    pattern: new RegExp(`^/2015-03-31${F}/invocations/?$`),
    params: ['name'],
    methods: { POST: ['Invoke', ops.invoke] },
  },
  {
    pattern: new RegExp(`^/2015-03-31${F}/logs/?$`),
    params: ['name'],
    methods: { GET: ['FunctionLogs', ops.functionLogs] },
  },
  {
    pattern: new RegExp(`^/2015-03-31${F}/policy/?$`),
    params: ['name'],
    methods: { POST: ['AddPermission', ops.addPermission], GET: ['GetPolicy', ops.getPolicy] },
  },
  {
    pattern: new RegExp(`^/2015-03-31${F}/policy/([^/]+)$`),
    params: ['name', 'sid'],
    methods: { DELETE: ['RemovePermission', ops.removePermission] },
  },
  {
    pattern: new RegExp(`^/2017-10-31${F}/concurrency/?$`),
    params: ['name'],
    methods: {
      PUT: ['PutFunctionConcurrency', ops.putFunctionConcurrency],
      DELETE: ['DeleteFunctionConcurrency', ops.deleteFunctionConcurrency],
    },
  },
  {
    pattern: new RegExp(`^/2019-09-30${F}/concurrency/?$`),
    params: ['name'],
    methods: { GET: ['GetFunctionConcurrency', ops.getFunctionConcurrency] },
  },
  {
    pattern: /^\/2017-03-31\/tags\/(.+)$/,
    params: ['resource'],
    methods: {
      GET: ['ListTags', ops.listTags],
      POST: ['TagResource', ops.tagResource],
      DELETE: ['UntagResource', ops.untagResource],
    },
  },
  {
    pattern: new RegExp(`^/2019-09-25${F}/event-invoke-config/?$`),
    params: ['name'],
    methods: {
      PUT: ['PutFunctionEventInvokeConfig', ops.putFunctionEventInvokeConfig],
      POST: ['UpdateFunctionEventInvokeConfig', ops.updateFunctionEventInvokeConfig],
      GET: ['GetFunctionEventInvokeConfig', ops.getFunctionEventInvokeConfig],
      DELETE: ['DeleteFunctionEventInvokeConfig', ops.deleteFunctionEventInvokeConfig],
    },
  },
  {
    pattern: /^\/2015-03-31\/event-source-mappings\/?$/,
    params: [],
    methods: {
      GET: ['ListEventSourceMappings', ops.listEventSourceMappings],
      POST: ['CreateEventSourceMapping', ops.createEventSourceMapping],
    },
  },
  {
    pattern: /^\/2015-03-31\/event-source-mappings\/([^/]+)$/,
    params: ['uuid'],
    methods: {
      GET: ['GetEventSourceMapping', ops.getEventSourceMapping],
      PUT: ['UpdateEventSourceMapping', ops.updateEventSourceMapping],
      DELETE: ['DeleteEventSourceMapping', ops.deleteEventSourceMapping],
    },
  },
]

const CODE_PACKAGE = /^\/2015-03-31\/functions\/([^/]+)\/code-package\/([0-9a-f]{64})\.zip$/

/** Whether a path is Lambda's (its versioned prefixes). */
export function isLambdaPath(path: string): boolean {
  return /^\/(2015-03-31|2017-10-31|2019-09-30|2017-03-31|2019-09-25)\//.test(path)
}

/** Whether the request is for a package GetFunction handed out (no signature: a token). */
export function isCodePackage(method: string | undefined, path: string): boolean {
  return method === 'GET' && CODE_PACKAGE.test(path)
}

export function serveCodePackage(
  functions: NonNullable<Services['functions']>,
  path: string,
  search: string,
  res: ServerResponse,
): void {
  const [, name = '', hex = ''] = CODE_PACKAGE.exec(path) ?? []
  const q = new URLSearchParams(search)
  const file = functions.directory.codeZip(
    { account: q.get('account') ?? '', region: q.get('region') ?? '' },
    decodeURIComponent(name),
    hex,
    q.get('token') ?? '',
  )
  if (!file) {
    res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Access Denied"}')
    return
  }
  const stream = createReadStream(file)
  stream.once('open', () => res.writeHead(200, { 'content-type': 'application/zip' }))
  stream.once('error', () => {
    if (!res.headersSent) res.writeHead(404)
    res.end()
  })
  stream.pipe(res)
}

export async function answerLambda(
  deps: { services: Services; queues: QueueService; log: Logger },
  scope: Scope,
  req: IncomingMessage,
  path: string,
  search: string,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID()
  let operation = 'Unknown'
  try {
    const functions = deps.services.functions
    if (!functions) throw new LambdaError('ServiceException', 'Functions are not available.')
    let found: { route: Route; match: RegExpExecArray } | undefined
    for (const route of ROUTES) {
      const match = route.pattern.exec(path)
      if (match) {
        found = { route, match }
        break
      }
    }
    const entry = found?.route.methods[req.method ?? 'GET']
    if (!found || !entry)
      throw new LambdaError(
        'UnknownOperationException',
        `No operation for ${req.method ?? ''} ${path}.`,
      )
    operation = entry[0]
    if (body.length > MAX_LAMBDA_REQUEST)
      throw new LambdaError(
        'RequestEntityTooLargeException',
        `Request must be smaller than ${String(MAX_LAMBDA_REQUEST)} bytes for the ${operation} operation`,
      )
    const params: Record<string, string> = {}
    found.route.params.forEach((p, i) => {
      params[p] = decodeURIComponent(found.match[i + 1] ?? '')
    })
    const request = {
      scope,
      requestId,
      functions,
      queues: deps.queues,
      now: deps.services.clock.now(),
      params,
      query: new URLSearchParams(search),
      headers: req.headers,
      body,
      origin: `http://${req.headers.host ?? 'localhost'}`,
    }
    // Invocations run beside everything; changes go one at a time with the control plane.
    const out =
      operation === 'Invoke'
        ? await entry[1](request)
        : await deps.services.registry.exclusive(() => entry[1](request))
    if (out.stream) {
      res.writeHead(out.status, { 'x-amzn-requestid': requestId, ...out.headers })
      const stop = out.stream((line) => res.write(line))
      req.once('close', stop)
      return
    }
    send(res, requestId, out)
  } catch (e) {
    const err = asLambdaError(e)
    if (err.status >= 500) deps.log.error({ err: e, requestId, operation }, 'internal error')
    const headers: Record<string, string> = { 'x-amzn-errortype': err.code }
    if (err.code === 'TooManyRequestsException') headers['retry-after'] = '1'
    send(res, requestId, { status: err.status, body: err.body(), headers })
  }
}

function send(res: ServerResponse, requestId: string, out: LambdaResponse): void {
  if (res.headersSent) return
  const payload =
    out.body === undefined
      ? undefined
      : Buffer.isBuffer(out.body)
        ? out.body
        : Buffer.from(JSON.stringify(out.body))
  res.writeHead(out.status, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    ...(payload === undefined ? {} : { 'content-length': String(payload.length) }),
    ...out.headers,
  })
  res.end(payload)
}

function asLambdaError(e: unknown): LambdaError {
  if (e instanceof LambdaError) return e
  // What other parts refuse with (the asynchronous invoker while it is not there) is Lambda's 500.
  if (e instanceof BusError && e.status >= 500)
    return new LambdaError('ServiceException', e.message)
  if (e instanceof BusError) return new LambdaError('InvalidParameterValueException', e.message)
  return new LambdaError('ServiceException', 'An internal error occurred.')
}
