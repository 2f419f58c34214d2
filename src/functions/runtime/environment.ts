/**
 * @module
 * What an instance runs and with which environment: Lambda's reserved variables, then the
 * function's own (which may not override the reserved ones).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FunctionRecord } from '../model.js'

/** Junction's root (where `runtimes/` and `node_modules/` live), from src/ or dist/. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'runtimes')) && path.dirname(dir) !== dir) {
    dir = path.dirname(dir)
  }
  return dir
}

export const ROOT = findRoot()
const RUNTIMES = path.join(ROOT, 'runtimes')
const PYTHON = '/usr/bin/python3'

let pythonRuntime: string | null | undefined
/**
 * The one `python3.x` Junction runs: the machine's `/usr/bin/python3` (where Debian's boto3
 * lives), or null without one. Asked once.
 */
export function supportedPythonRuntime(): string | null {
  if (pythonRuntime === undefined) {
    try {
      const out = execFileSync(PYTHON, ['-c', 'import sys;print("%d.%d"%sys.version_info[:2])'])
      pythonRuntime = `python${out.toString().trim()}`
    } catch {
      pythonRuntime = null
    }
  }
  return pythonRuntime
}

/** Whether the runner can run this runtime. */
export function runsRuntime(runtime: string): boolean {
  return (
    runtime === 'nodejs20.x' ||
    runtime === 'nodejs22.x' ||
    runtime === 'provided.al2023' ||
    runtime === 'provided.al2' ||
    runtime === supportedPythonRuntime()
  )
}

export function command(fn: FunctionRecord): { file: string; args: string[] } {
  if (fn.runtime.startsWith('nodejs')) {
    return { file: process.execPath, args: [path.join(RUNTIMES, 'nodejs', 'bootstrap.mjs')] }
  }
  if (fn.runtime.startsWith('python')) {
    return { file: PYTHON, args: [path.join(RUNTIMES, 'python', 'bootstrap.py')] }
  }
  return { file: path.join(fn.codeDir, 'bootstrap'), args: [] }
}

export type InstanceEnv = {
  runtimeApi: string
  logStream: string
  endpointUrl: string
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined
}

export function environment(fn: FunctionRecord, e: InstanceEnv): Record<string, string> {
  const reserved: Record<string, string> = {
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: e.logStream,
    AWS_REGION: fn.region,
    AWS_DEFAULT_REGION: fn.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    _HANDLER: fn.handler ?? '',
    LAMBDA_TASK_ROOT: fn.codeDir,
    LAMBDA_RUNTIME_DIR: RUNTIMES,
    AWS_LAMBDA_RUNTIME_API: e.runtimeApi,
    TZ: ':UTC',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // The server in auth-off mode reads a 12-digit access key id as the caller's account.
    AWS_ACCESS_KEY_ID: e.credentials?.accessKeyId ?? fn.account,
    AWS_SECRET_ACCESS_KEY: e.credentials?.secretAccessKey ?? 'junction',
  }
  const env: Record<string, string> = {
    LANG: 'en_US.UTF-8',
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    AWS_ENDPOINT_URL: e.endpointUrl,
    ...fn.environment,
    ...reserved,
  }
  // A session token from the server's own environment would not match these keys.
  delete env.AWS_SESSION_TOKEN
  if (fn.runtime.startsWith('nodejs')) {
    // CommonJS `require('@aws-sdk/…')` falls back to Junction's modules; ESM gets a resolve hook.
    const sdk = path.join(ROOT, 'node_modules')
    env.NODE_PATH = fn.environment.NODE_PATH ? `${fn.environment.NODE_PATH}:${sdk}` : sdk
    env.JUNCTION_SDK_ROOT = ROOT
  } else if (fn.runtime.startsWith('python')) {
    env.PYTHONUNBUFFERED = '1'
  }
  return env
}
