/**
 * @module
 * One instance: a child process running a function's runtime, and its own loopback Runtime API
 * server. A server per instance (rather than one shared server) because clients read
 * `AWS_LAMBDA_RUNTIME_API` as a bare `host:port`, so the port itself says which instance calls;
 * a listen costs well under a millisecond next to a process start.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FunctionRecord } from '../model.js'
import type { InvokeOutcome, InvokeRequest } from '../runner.js'
import { command, environment } from './environment.js'
import { tail, type FunctionLog } from './logs.js'

/** Lambda's limit on the init phase. */
const INIT_LIMIT_MS = 10_000
const PREFIX = '/2018-06-01/runtime/'
/** Lambda's limit on a synchronous invocation's response (6 MB). */
const RESPONSE_LIMIT = 6_291_556

type Invocation = {
  request: InvokeRequest
  resolve: (outcome: InvokeOutcome) => void
  lines: string[]
  delivered: boolean
  startedAt: number
  timer?: NodeJS.Timeout
  cold: boolean
}

export type InstanceHooks = {
  host: string
  endpointUrl: string
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined
  log: FunctionLog
  /** The instance finished an invocation and waits for the next. */
  onIdle: (instance: Instance) => void
  /** The process is gone (and its server closed). */
  onExit: (instance: Instance) => void
}

export class Instance {
  readonly revisionId: string
  /** Set once the process has exited or is being killed: never handed work again. */
  dead = false
  /** The function changed or is gone: stop once the current invocation ends. */
  retired = false
  pid: number | undefined
  idleTimer: NodeJS.Timeout | undefined
  private child: ChildProcess | undefined
  private readonly server: http.Server
  private parked: ServerResponse | undefined
  private current: Invocation | undefined
  private initialised = false
  private readonly spawnedAt = performance.now()
  private initDurationMs = 0
  private initTimer: NodeJS.Timeout | undefined
  private initError: { errorType: string; payload: Buffer } | undefined
  private timedOut = false
  private spawnError: Error | undefined
  private readonly clientContexts = new Map<string, string>()

  constructor(
    readonly fn: FunctionRecord,
    private readonly hooks: InstanceHooks,
  ) {
    this.revisionId = fn.revisionId
    this.server = http.createServer({ keepAliveTimeout: 0 }, (req, res) => {
      this.route(req, res)
    })
    this.server.listen(0, hooks.host, () => {
      this.spawnProcess()
    })
    this.initTimer = setTimeout(() => {
      this.timedOut = true
      this.kill()
    }, INIT_LIMIT_MS)
  }

  get busy(): boolean {
    return this.current !== undefined
  }

  /** Hands one invocation to this instance (which must be idle). */
  run(request: InvokeRequest): Promise<InvokeOutcome> {
    clearTimeout(this.idleTimer)
    return new Promise((resolve) => {
      this.current = {
        request,
        resolve,
        lines: [],
        delivered: false,
        startedAt: 0,
        cold: !this.initialised,
      }
      if (this.parked) {
        const res = this.parked
        this.parked = undefined
        this.deliver(res)
      }
    })
  }

  /** SIGKILL to the whole process group: a handler's own children go too. */
  kill(): void {
    this.dead = true
    clearTimeout(this.idleTimer)
    const pid = this.child?.pid
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    // Not spawned yet: spawnProcess sees `dead` and stops there.
  }

  private spawnProcess(): void {
    if (this.dead) {
      this.server.close()
      this.hooks.onExit(this)
      return
    }
    const { port } = this.server.address() as AddressInfo
    const stream = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`
    const env = environment(this.fn, {
      runtimeApi: `${this.hooks.host}:${port}`,
      logStream: stream,
      endpointUrl: this.hooks.endpointUrl,
      credentials: this.hooks.credentials,
    })
    const { file, args } = command(this.fn)
    const child = spawn(file, args, {
      cwd: this.fn.codeDir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    this.pid = child.pid
    this.readLines(child.stdout)
    this.readLines(child.stderr)
    child.on('error', (err) => {
      // The executable is missing or not executable: Lambda's Runtime.InvalidEntrypoint.
      this.spawnError = err
      this.hooks.log.add(`Runtime.InvalidEntrypoint: ${err.message}`)
    })
    child.on('close', (code, signal) => {
      this.exited(code, signal)
    })
  }

  private readLines(stream: NodeJS.ReadableStream): void {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop() ?? ''
      for (const line of parts) this.line(line)
    })
    stream.on('end', () => {
      if (rest) this.line(rest)
    })
  }

  private line(text: string): void {
    this.hooks.log.add(text)
    this.current?.lines.push(text)
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? ''
    if (req.method === 'GET' && url === `${PREFIX}invocation/next`) {
      this.next(res)
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const errorType = req.headers['lambda-runtime-function-error-type']
      if (url === `${PREFIX}init/error`) {
        this.initError = {
          errorType: typeof errorType === 'string' ? errorType : 'Runtime.Unknown',
          payload: body,
        }
        accepted(res)
        this.failInit()
        return
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url)
      const inv = this.current
      if (req.method !== 'POST' || !m || !inv || inv.request.requestId !== m[1] || !inv.delivered) {
        res.writeHead(m ? 400 : 404, { 'content-type': 'application/json' })
        res.end('{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}')
        return
      }
      accepted(res)
      const durationMs = performance.now() - inv.startedAt
      // Let output the process wrote before answering reach this invocation's lines first.
      setImmediate(() => {
        if (m[2] === 'response' && body.length > RESPONSE_LIMIT) {
          const message = `Response payload size exceeded maximum allowed payload size (${RESPONSE_LIMIT} bytes).`
          this.finish(inv, failure('Function.ResponseSizeTooLarge', message, durationMs))
        } else if (m[2] === 'response') {
          this.finish(inv, { kind: 'ok', payload: body, durationMs })
        } else {
          const type = typeof errorType === 'string' ? errorType : errorTypeOf(body)
          this.finish(inv, { kind: 'function-error', errorType: type, payload: body, durationMs })
        }
      })
    })
  }

  private next(res: ServerResponse): void {
    if (!this.initialised) {
      this.initialised = true
      this.initDurationMs = performance.now() - this.spawnedAt
      clearTimeout(this.initTimer)
    }
    if (this.current && !this.current.delivered) this.deliver(res)
    else this.parked = res
  }

  private deliver(res: ServerResponse): void {
    const inv = this.current!
    const { request } = inv
    inv.delivered = true
    inv.startedAt = performance.now()
    const deadline = Date.now() + this.fn.timeout * 1000
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': request.payload.length,
      'lambda-runtime-aws-request-id': request.requestId,
      'lambda-runtime-deadline-ms': deadline,
      'lambda-runtime-invoked-function-arn': this.fn.arn,
      'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`,
    }
    if (request.clientContext) {
      // The Lambda API gets it base64; the Runtime API hands the runtime the JSON itself.
      let json = this.clientContexts.get(request.clientContext)
      if (json === undefined) {
        json = Buffer.from(request.clientContext, 'base64').toString('utf8')
        this.clientContexts.set(request.clientContext, json)
      }
      headers['lambda-runtime-client-context'] = json
    }
    this.logLine(inv, `START RequestId: ${request.requestId} Version: $LATEST`)
    inv.timer = setTimeout(() => {
      this.timedOut = true
      this.kill()
      const message = `RequestId: ${request.requestId} Error: Task timed out after ${this.fn.timeout.toFixed(2)} seconds`
      this.finish(inv, failure('Sandbox.Timedout', message, performance.now() - inv.startedAt))
    }, this.fn.timeout * 1000)
    res.writeHead(200, headers)
    res.end(request.payload)
  }

  private logLine(inv: Invocation | undefined, text: string): void {
    this.hooks.log.add(text)
    inv?.lines.push(text)
  }

  private finish(inv: Invocation, outcome: InvokeOutcome): void {
    if (this.current !== inv) return
    clearTimeout(inv.timer)
    this.current = undefined
    if (outcome.kind !== 'throttled') {
      const id = inv.request.requestId
      this.logLine(inv, `END RequestId: ${id}`)
      const duration = outcome.durationMs
      let report = `REPORT RequestId: ${id}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(duration))} ms\tMemory Size: ${this.fn.memorySize} MB\tMax Memory Used: ${this.maxMemoryMb()} MB`
      if (inv.cold) report += `\tInit Duration: ${this.initDurationMs.toFixed(2)} ms`
      this.logLine(inv, report)
      if (inv.request.tailLog) outcome.logTail = tail(inv.lines)
    }
    inv.resolve(outcome)
    if (!this.dead) this.hooks.onIdle(this)
  }

  /** Peak resident memory (VmHWM) of the runtime process, as Lambda's "Max Memory Used". */
  private maxMemoryMb(): number {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'latin1')
      const m = /VmHWM:\s+(\d+) kB/.exec(status)
      return m ? Math.round(Number(m[1]) / 1024) : 0
    } catch {
      return 0
    }
  }

  private failInit(): void {
    this.kill()
    const inv = this.current
    if (inv && this.initError) {
      this.finish(inv, {
        kind: 'function-error',
        errorType: this.initError.errorType,
        payload: this.initError.payload,
        durationMs: performance.now() - this.spawnedAt,
      })
    }
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.dead = true
    clearTimeout(this.initTimer)
    clearTimeout(this.idleTimer)
    this.parked?.destroy()
    this.server.close()
    this.server.closeAllConnections()
    const inv = this.current
    if (inv) {
      const durationMs = inv.delivered
        ? performance.now() - inv.startedAt
        : performance.now() - this.spawnedAt
      if (this.spawnError) {
        const message = `RequestId: ${inv.request.requestId} Error: Couldn't find valid bootstrap(s): [${command(this.fn).file}]`
        this.finish(inv, failure('Runtime.InvalidEntrypoint', message, durationMs))
      } else if (this.initError) {
        const { errorType, payload } = this.initError
        this.finish(inv, { kind: 'function-error', errorType, payload, durationMs })
      } else if (this.timedOut && !inv.delivered) {
        const message = `RequestId: ${inv.request.requestId} Error: Task timed out after ${(INIT_LIMIT_MS / 1000).toFixed(2)} seconds`
        this.finish(inv, failure('Sandbox.Timedout', message, durationMs))
      } else {
        const how =
          signal === 'SIGKILL'
            ? 'signal: killed'
            : signal
              ? `signal: ${signal.slice(3).toLowerCase()}`
              : `exit status ${code ?? 0}`
        const message = `RequestId: ${inv.request.requestId} Error: Runtime exited with error: ${how}`
        this.finish(inv, failure('Runtime.ExitError', message, durationMs))
      }
    }
    this.hooks.onExit(this)
  }
}

function accepted(res: ServerResponse): void {
  res.writeHead(202, { 'content-type': 'application/json' })
  res.end('{"status":"OK"}')
}

function failure(errorType: string, errorMessage: string, durationMs: number): InvokeOutcome {
  return {
    kind: 'function-error',
    errorType,
    payload: Buffer.from(JSON.stringify({ errorType, errorMessage })),
    durationMs,
  }
}

function errorTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown }
    return typeof parsed.errorType === 'string' ? parsed.errorType : 'Unhandled'
  } catch {
    return 'Unhandled'
  }
}
