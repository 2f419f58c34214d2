/**
 * @module
 * The process runner: functions run as child processes speaking the Lambda Runtime API, one
 * invocation at a time per instance as in Lambda. Warm instances are reused; concurrent
 * invocations start more, up to the function's reserved concurrency and the server's limit.
 */
import type { Logger } from 'pino'
import type { FunctionRecord } from '../model.js'
import type { FunctionLogs, FunctionRunner, InvokeOutcome, InvokeRequest } from '../runner.js'
import { Instance } from './instance.js'
import { FunctionLog } from './logs.js'

export { runsRuntime, supportedPythonRuntime } from './environment.js'

export type RunnerOptions = {
  /** Where the instances' Runtime API listens (loopback). */
  host?: string
  /** `AWS_ENDPOINT_URL` for the functions: Junction's own URL (known once it listens). */
  endpointUrl: () => string
  /** Credentials the instances get for their function's account (sigv4 mode), if any. */
  credentialsFor?: (account: string) => { accessKeyId: string; secretAccessKey: string } | undefined
  /** Instances across all functions (`--function-concurrency`). */
  maxInstances: number
  /** An idle instance stops after this long (ms, `--function-idle`). */
  idleMs: number
  log: Logger
}

export function createProcessRunner(options: RunnerOptions): FunctionRunner {
  return new ProcessRunner(options)
}

class ProcessRunner implements FunctionRunner {
  private readonly instances = new Map<string, Set<Instance>>()
  private readonly logsByArn = new Map<string, FunctionLog>()
  private total = 0
  private readonly host: string
  private closing = false
  private readonly exits = new Set<() => void>()

  constructor(private readonly options: RunnerOptions) {
    this.host = options.host ?? '127.0.0.1'
  }

  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeOutcome> {
    if (fn.reservedConcurrency === 0) {
      // PutFunctionConcurrency 0 stops every invocation, warm instances or not.
      return Promise.resolve({
        kind: 'throttled',
        reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      })
    }
    const instance = this.idleInstance(fn) ?? this.startInstance(fn)
    if (typeof instance === 'string')
      return Promise.resolve({ kind: 'throttled', reason: instance })
    return instance.run(request)
  }

  private idleInstance(fn: FunctionRecord): Instance | undefined {
    const set = this.instances.get(fn.arn)
    if (!set) return undefined
    for (const instance of set) {
      if (instance.dead || instance.busy) continue
      if (instance.revisionId === fn.revisionId && !instance.retired) return instance
      // An idle instance of an older revision: it will never be used again.
      instance.kill()
    }
    return undefined
  }

  private startInstance(
    fn: FunctionRecord,
  ):
    | Instance
    | 'ReservedFunctionConcurrentInvocationLimitExceeded'
    | 'ConcurrentInvocationLimitExceeded' {
    const set = this.instances.get(fn.arn) ?? new Set<Instance>()
    if (fn.reservedConcurrency !== undefined && live(set) >= fn.reservedConcurrency) {
      return 'ReservedFunctionConcurrentInvocationLimitExceeded'
    }
    if (this.total >= this.options.maxInstances && !this.evictIdle()) {
      return 'ConcurrentInvocationLimitExceeded'
    }
    this.instances.set(fn.arn, set)
    const instance = new Instance(fn, {
      host: this.host,
      endpointUrl: this.options.endpointUrl(),
      credentials: this.options.credentialsFor?.(fn.account),
      log: this.functionLog(fn.arn, fn.name),
      onIdle: (i) => {
        this.idle(i)
      },
      onExit: (i) => {
        this.exited(i)
      },
    })
    set.add(instance)
    this.total++
    return instance
  }

  /** Frees a slot held by an idle instance of any function; false when every instance works. */
  private evictIdle(): boolean {
    for (const set of this.instances.values()) {
      for (const instance of set) {
        if (!instance.dead && !instance.busy) {
          instance.kill()
          this.forget(instance)
          return true
        }
      }
    }
    return false
  }

  private idle(instance: Instance): void {
    if (instance.retired || this.closing) {
      instance.kill()
      return
    }
    instance.idleTimer = setTimeout(() => {
      instance.kill()
    }, this.options.idleMs)
    instance.idleTimer.unref()
  }

  private exited(instance: Instance): void {
    this.forget(instance)
    for (const wake of this.exits) wake()
  }

  /** Stops counting an instance (once: a killed instance is forgotten before it exits). */
  private forget(instance: Instance): void {
    const set = this.instances.get(instance.fn.arn)
    if (set?.delete(instance)) {
      this.total--
      if (set.size === 0) this.instances.delete(instance.fn.arn)
    }
  }

  updated(fn: FunctionRecord): void {
    for (const instance of this.instances.get(fn.arn) ?? []) {
      if (instance.revisionId === fn.revisionId) continue
      instance.retired = true
      if (!instance.busy) instance.kill()
    }
  }

  removed(functionArn: string): void {
    for (const instance of this.instances.get(functionArn) ?? []) {
      instance.retired = true
      if (!instance.busy) instance.kill()
    }
  }

  logs(functionArn: string): FunctionLogs {
    return this.functionLog(functionArn, functionArn.slice(functionArn.lastIndexOf(':') + 1))
  }

  private functionLog(arn: string, name: string): FunctionLog {
    let log = this.logsByArn.get(arn)
    if (!log) {
      log = new FunctionLog(name, this.options.log)
      this.logsByArn.set(arn, log)
    }
    return log
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.closing = true
    const all = () => [...this.instances.values()].flatMap((set) => [...set])
    for (const instance of all()) {
      instance.retired = true
      if (!instance.busy) instance.kill()
    }
    const deadline = Date.now() + timeoutMs
    while (this.total > 0) {
      const left = deadline - Date.now()
      if (left <= 0) {
        for (const instance of all()) instance.kill()
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.exits.delete(wake)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(wake, Math.max(left, 100))
        this.exits.add(wake)
      })
    }
  }
}

/** Instances that count against concurrency: all not yet stopping. */
function live(set: Set<Instance>): number {
  let n = 0
  for (const instance of set) if (!instance.dead) n++
  return n
}
