/**
 * @module
 * The process runner (child processes speaking the Lambda Runtime API). Placeholder until the
 * runtime lands: the factory's signature only.
 */
import type { Logger } from 'pino'
import type { FunctionRunner } from '../runner.js'

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
  options.log.error('the function runtime is not built yet')
  throw new Error('the function runtime is not built yet')
}
