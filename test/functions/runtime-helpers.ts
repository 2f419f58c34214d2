// Fixtures for the runtime tests: functions as plain directories in a temp dir, and records
// built the way the Lambda API would build them.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import type { FunctionRecord } from '../../src/functions/model.js'
import { createProcessRunner, type RunnerOptions } from '../../src/functions/runtime/index.js'

export function codeDir(files: Record<string, string>, executable: string[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'junction-fn-'))
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, text)
    if (executable.includes(name)) chmodSync(file, 0o755)
  }
  return dir
}

let revision = 0
export function fnRecord(
  name: string,
  runtime: string,
  dir: string,
  more: Partial<FunctionRecord> = {},
): FunctionRecord {
  const account = '111122223333'
  const region = 'eu-west-1'
  return {
    key: `${account}/${region}/${name}`,
    account,
    region,
    name,
    arn: `arn:aws:lambda:${region}:${account}:function:${name}`,
    runtime,
    handler: 'index.handler',
    role: `arn:aws:iam::${account}:role/fn`,
    description: '',
    timeout: 3,
    memorySize: 128,
    environment: {},
    tags: {},
    codeSha256: '',
    codeSize: 0,
    codeDir: dir,
    revisionId: `rev-${++revision}`,
    lastModified: Date.now(),
    policy: [],
    ...more,
  }
}

export function runner(more: Partial<RunnerOptions> = {}) {
  return createProcessRunner({
    endpointUrl: () => 'http://127.0.0.1:1',
    maxInstances: 10,
    idleMs: 60_000,
    log: pino({ level: 'silent' }),
    ...more,
  })
}

let n = 0
export function request(
  payload: unknown,
  more: { tailLog?: boolean; clientContext?: string } = {},
) {
  return {
    requestId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    payload: Buffer.from(JSON.stringify(payload)),
    tailLog: more.tailLog ?? false,
    ...(more.clientContext ? { clientContext: more.clientContext } : {}),
  }
}
