// Junction's Node.js runtime: the Lambda Runtime API loop for `nodejs20.x`/`nodejs22.x` handlers,
// dependency-free (the official runtime interface client compiles native code).
import http from 'node:http'
import { existsSync } from 'node:fs'
import { register } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'

const [apiHost, apiPort] = process.env.AWS_LAMBDA_RUNTIME_API.split(':')
const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd()
const handlerName = process.env._HANDLER ?? ''
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

// Lambda provides the AWS SDK v3 without the zip bundling it: ESM imports of `@aws-sdk/*` that the
// code does not resolve itself fall back to Junction's own node_modules (CommonJS gets NODE_PATH).
if (process.env.JUNCTION_SDK_ROOT) {
  register('./resolve-sdk.mjs', import.meta.url, { data: { root: process.env.JUNCTION_SDK_ROOT } })
}

let requestId = ''
// Lambda's text log format: one entry a line, newlines inside a message become carriage returns.
const levels = {
  log: 'INFO',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  debug: 'DEBUG',
  trace: 'TRACE',
}
for (const [method, level] of Object.entries(levels)) {
  console[method] = (...args) => {
    const line = `${new Date().toISOString()}\t${requestId || 'undefined'}\t${level}\t${format(...args)}`
    process.stdout.write(line.replace(/\n/g, '\r') + '\n')
  }
}

function call(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: apiHost, port: apiPort, method, path: urlPath, agent, headers },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function errorBody(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name,
      errorMessage: err.message,
      trace: String(err.stack ?? '').split('\n'),
    }
  }
  return {
    errorType: typeof err === 'string' ? 'string' : typeof err,
    errorMessage: String(err),
    trace: [],
  }
}

async function postError(urlPath, body) {
  const json = JSON.stringify(body)
  await call('POST', urlPath, json, {
    'content-type': 'application/json',
    'lambda-runtime-function-error-type': body.errorType,
  })
}

// Lambda words init errors as `<Name>: <message>` (`Error: Cannot find module 'app'`).
async function initError(errorType, err, bare = false) {
  const errorMessage = bare ? err.message : `${err.name}: ${err.message}`
  const body = { errorType, errorMessage, trace: bare ? [] : String(err.stack ?? '').split('\n') }
  console.error('Init Error', JSON.stringify(body))
  await postError('/2018-06-01/runtime/init/error', body)
  process.exit(1)
}

async function loadHandler() {
  // `src/app.handler`: the module is everything up to the first dot of the last path segment;
  // the rest is the export (nested paths allowed: `app.obj.fn`).
  const slash = handlerName.lastIndexOf('/')
  const dot = handlerName.indexOf('.', slash + 1)
  if (dot < 0) {
    return initError('Runtime.MalformedHandlerName', new Error(`Bad handler ${handlerName}`), true)
  }
  const modulePath = handlerName.slice(0, dot)
  const exportPath = handlerName.slice(dot + 1).split('.')
  const base = path.resolve(taskRoot, modulePath)
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f))
  let mod
  try {
    if (!file) {
      const err = new Error(
        `Cannot find module '${path.basename(modulePath)}'\nRequire stack:\n- ${process.argv[1]}`,
      )
      return initError('Runtime.ImportModuleError', err)
    }
    mod = await import(pathToFileURL(file).href)
  } catch (err) {
    if (err instanceof SyntaxError) return initError('Runtime.UserCodeSyntaxError', err)
    if (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') {
      return initError('Runtime.ImportModuleError', err)
    }
    return initError(
      err instanceof Error ? err.name : 'Runtime.UnknownError',
      err instanceof Error ? err : new Error(String(err)),
    )
  }
  let fn = mod
  for (const key of exportPath) fn = fn?.[key]
  // A CommonJS module's exports arrive as `default` when Node cannot see its named exports.
  if (typeof fn !== 'function' && mod.default) {
    fn = mod.default
    for (const key of exportPath) fn = fn?.[key]
  }
  if (typeof fn !== 'function') {
    const err = new Error(
      `${path.basename(modulePath)}.${exportPath.join('.')} is undefined or not exported`,
    )
    return initError('Runtime.HandlerNotFound', err, true)
  }
  return fn
}

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false
    const done = (err, result) => {
      if (settled) return
      settled = true
      if (err !== null && err !== undefined) reject(err)
      else resolve(result)
    }
    context.done = done
    context.succeed = (result) => done(null, result)
    context.fail = (err) => done(err ?? new Error('handled'))
    try {
      const out = handler(event, context, done)
      if (out && typeof out.then === 'function')
        out.then(
          (r) => done(null, r),
          (e) => done(e),
        )
      else if (handler.length < 3) done(null, out)
    } catch (err) {
      done(err)
    }
  })
}

const handler = await loadHandler()
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME
for (;;) {
  const { res, body } = await call('GET', '/2018-06-01/runtime/invocation/next')
  const h = res.headers
  requestId = h['lambda-runtime-aws-request-id']
  const deadline = Number(h['lambda-runtime-deadline-ms'])
  const context = {
    awsRequestId: requestId,
    functionName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: h['lambda-runtime-client-context']
      ? JSON.parse(h['lambda-runtime-client-context'])
      : undefined,
    identity: h['lambda-runtime-cognito-identity']
      ? JSON.parse(h['lambda-runtime-cognito-identity'])
      : undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
  if (h['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = h['lambda-runtime-trace-id']
  const base = `/2018-06-01/runtime/invocation/${requestId}`
  try {
    const event = JSON.parse(body.toString('utf8'))
    const result = await runHandler(handler, event, context)
    await call('POST', `${base}/response`, JSON.stringify(result === undefined ? null : result))
  } catch (err) {
    const payload = errorBody(err)
    console.error('Invoke Error', JSON.stringify(payload))
    await postError(`${base}/error`, payload)
  }
}
