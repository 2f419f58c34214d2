/**
 * @module
 * Function code on every node (distributed mode): the node that took CreateFunction or
 * UpdateFunctionCode put the zip in the shared {@link CodeStore}; whichever node takes an
 * invocation unpacks it under its own code root the first time it runs that package, then runs
 * the function from there. Local code directories (`S3Bucket: "hot-reload"`) are not shared:
 * they must be at the same path on every node (a shared volume).
 */
import { existsSync } from 'node:fs'
import type { Logger } from 'pino'
import type { CodeStore } from '../store/ports.js'
import { storeCode } from './code.js'
import type { FunctionRecord } from './model.js'
import type { FunctionRunner, InvokeOutcome, InvokeRequest } from './runner.js'

export function withSharedCode(
  runner: FunctionRunner,
  code: CodeStore,
  codeRoot: string,
  log: Logger,
): FunctionRunner {
  /** Unpacked (or being unpacked) here, by base64 SHA-256: the directory to run from. */
  const unpacked = new Map<string, Promise<string>>()

  const localDir = (fn: FunctionRecord): Promise<string> => {
    if (fn.localCode || existsSync(fn.codeDir)) return Promise.resolve(fn.codeDir)
    let dir = unpacked.get(fn.codeSha256)
    if (!dir) {
      dir = (async () => {
        const hex = Buffer.from(fn.codeSha256, 'base64').toString('hex')
        const zip = await code.get(hex)
        if (!zip) throw new Error(`the code of ${fn.arn} (${hex}) is not in the shared store`)
        const stored = await storeCode(codeRoot, fn, zip)
        log.info({ function: fn.arn, dir: stored.dir }, 'function code fetched from the store')
        return stored.dir
      })()
      unpacked.set(fn.codeSha256, dir)
      // A failed fetch (NATS out of reach) is tried again at the next invocation.
      dir.catch(() => unpacked.delete(fn.codeSha256))
    }
    return dir
  }

  return {
    async invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeOutcome> {
      let dir: string
      try {
        dir = await localDir(fn)
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e)
        log.warn({ function: fn.arn, err: e }, 'function code could not be fetched')
        // What Lambda reports when an instance cannot be prepared: the invocation fails, and an
        // asynchronous one is retried.
        return {
          kind: 'function-error',
          errorType: 'Runtime.Unknown',
          payload: Buffer.from(
            JSON.stringify({ errorType: 'Runtime.Unknown', errorMessage: message }),
          ),
          durationMs: 0,
        }
      }
      return runner.invoke(dir === fn.codeDir ? fn : { ...fn, codeDir: dir }, request)
    },
    updated: (fn) => runner.updated(fn),
    removed: (arn) => runner.removed(arn),
    logs: (arn) => runner.logs(arn),
    close: (timeoutMs) => runner.close(timeoutMs),
  }
}
