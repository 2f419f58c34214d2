/**
 * Invoke end to end (needs the process runtime, `src/functions/runtime/`) with the real AWS CLI
 * v2: the setup is that of `lambda-aws-cli.e2e.test.ts`. Lambda end to end with the real AWS CLI v2 (`/usr/bin/aws lambda …`) against a `junction serve`
 * process: a Node.js and a Python function created from zips (`--zip-file fileb://…`), read,
 * listed, updated and deleted; their resource policy, reserved concurrency, tags,
 * asynchronous-invocation settings and an SQS event source mapping; errors with the codes and
 * messages Lambda answers. The `invoke` tests run the functions' code: they need the process
 * runtime (`src/functions/runtime/`).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { awsCli } from '../helpers/aws-cli.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, clientEnv } from './scenario.js'

const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-role`
const work = mkdtempSync(join(tmpdir(), 'junction-lambda-cli-'))

/** A zip made by Python's zipfile; returns its path. */
function zipOf(name: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, `${name}-`))
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  const zip = join(work, `${name}.zip`)
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', zip, ...Object.keys(files)], {
    cwd: dir,
  })
  return zip
}

const NODE_ZIP = zipOf('node', {
  'index.mjs': [
    'export const handler = async (event, context) => {',
    "  console.log('got', JSON.stringify(event))",
    "  if (event.fail) throw new Error('asked to fail')",
    '  return { echo: event, requestId: context.awsRequestId, fn: context.functionName }',
    '}',
    '',
  ].join('\n'),
})
const PYTHON_ZIP = zipOf('python', {
  'app.py': 'def handler(event, context):\n    return {"py": event, "fn": context.function_name}\n',
})
const PYTHON_RUNTIME = `python3.${/Python 3\.(\d+)/.exec(execFileSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' }))![1]!}`

let server: ServerProcess
let env: NodeJS.ProcessEnv
const { ok, run } = awsCli(
  () => server.url,
  () => env,
)

before(async () => {
  server = await startServerProcess()
  env = clientEnv()
  await ok(
    'lambda',
    'create-function',
    '--function-name',
    'echo-node',
    '--runtime',
    'nodejs20.x',
    '--role',
    ROLE,
    '--handler',
    'index.handler',
    '--zip-file',
    `fileb://${NODE_ZIP}`,
    '--environment',
    'Variables={GREETING=hello}',
    '--tags',
    'team=core',
  )
  await ok(
    'lambda',
    'create-function',
    '--function-name',
    'echo-python',
    '--runtime',
    PYTHON_RUNTIME,
    '--role',
    ROLE,
    '--handler',
    'app.handler',
    '--zip-file',
    `fileb://${PYTHON_ZIP}`,
  )
})
after(async () => {
  assert.equal(await server.stop(), 0, server.output())
})

describe('invoke with the AWS CLI (needs the process runtime)', () => {
  const invoke = async (name: string, payload: string, ...extra: string[]) => {
    const out = join(work, `out-${String(Math.random()).slice(2)}.json`)
    const meta = await ok(
      'lambda',
      'invoke',
      '--function-name',
      name,
      '--cli-binary-format',
      'raw-in-base64-out',
      '--payload',
      payload,
      ...extra,
      out,
    )
    return { meta, body: JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown> }
  }

  test('a Node.js function answers its event', async () => {
    const { meta, body } = await invoke('echo-node', '{"n":1}')
    assert.equal(meta.StatusCode, 200)
    assert.equal(meta.ExecutedVersion, '$LATEST')
    assert.deepEqual(body.echo, { n: 1 })
    assert.equal(body.fn, 'echo-node')
  })

  test('a Python function answers its event', async () => {
    const { meta, body } = await invoke('echo-python', '{"n":2}')
    assert.equal(meta.StatusCode, 200)
    assert.deepEqual(body, { py: { n: 2 }, fn: 'echo-python' })
  })

  test('a thrown error is FunctionError Unhandled with Lambda error JSON; --log-type Tail', async () => {
    const { meta, body } = await invoke('echo-node', '{"fail":true}', '--log-type', 'Tail')
    assert.equal(meta.StatusCode, 200)
    assert.equal(meta.FunctionError, 'Unhandled')
    assert.equal(body.errorType, 'Error')
    assert.equal(body.errorMessage, 'asked to fail')
    const log = Buffer.from(String(meta.LogResult), 'base64').toString('utf8')
    assert.match(log, /got \{"fail":true\}/)
  })

  test('junction logs prints the invocations START, END and REPORT lines and the output', async () => {
    await invoke('echo-node', '{"n":3}')
    const r = await run(process.execPath, [
      '--import',
      'tsx',
      join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src/cli/main.ts'),
      'logs',
      'echo-node',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^START RequestId: /m)
    assert.match(r.stdout, /^END RequestId: /m)
    assert.match(r.stdout, /^REPORT RequestId: /m)
    assert.match(r.stdout, /got \{"n":3\}/)
  })
})
