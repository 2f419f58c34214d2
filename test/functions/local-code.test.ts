/**
 * Function code from a local directory (`Code: {S3Bucket: "hot-reload", S3Key: DIR}`), through
 * the real AWS SDK against `junction serve`: the directory is used in place, an edit of the
 * handler is seen by the next invoke without UpdateFunctionCode, node_modules changes are
 * ignored, a bad path is refused, a zip stops the watch, and a restart watches again.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'

const ACCOUNT = '111111111111'
const servers: ServerProcess[] = []
after(async () => {
  for (const s of servers) await s.stop()
})

function client(url: string): LambdaClient {
  return new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'secret' },
  })
}

function handlerDir(answer: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'junction-local-code-'))
  writeFileSync(join(dir, 'index.mjs'), handlerSource(answer))
  return dir
}

const handlerSource = (answer: string) =>
  `export const handler = async () => ({ answer: ${JSON.stringify(answer)}, pid: process.pid })\n`

async function invoke(
  lambda: LambdaClient,
  name: string,
): Promise<{ answer: string; pid: number }> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }))
  assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString())
  return JSON.parse(Buffer.from(out.Payload!).toString()) as { answer: string; pid: number }
}

/** Invokes until the answer is `want` (the watch is debounced), for at most `ms`. */
async function invokeUntil(lambda: LambdaClient, name: string, want: string, ms = 3000) {
  const deadline = Date.now() + ms
  for (;;) {
    const got = await invoke(lambda, name)
    if (got.answer === want || Date.now() > deadline) return got
    await sleep(100)
  }
}

async function create(lambda: LambdaClient, name: string, dir: string) {
  return lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: `arn:aws:iam::${ACCOUNT}:role/any`,
      Code: { S3Bucket: 'hot-reload', S3Key: dir },
    }),
  )
}

test('a function from a local directory sees an edit of its handler on the next invoke', async () => {
  const dataDir = tempDir()
  const server = await startServerProcess({ dataDir })
  servers.push(server)
  const lambda = client(server.url)
  const dir = handlerDir('first')
  const created = await create(lambda, 'hot', dir)
  assert.equal(created.CodeSize, Buffer.byteLength(handlerSource('first')))
  assert.match(created.CodeSha256 ?? '', /^[A-Za-z0-9+/]{43}=$/)

  const first = await invoke(lambda, 'hot')
  assert.equal(first.answer, 'first')

  // A change under node_modules is not the function's code: the warm instance stays.
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true })
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1\n')
  await sleep(600)
  assert.equal((await invoke(lambda, 'hot')).pid, first.pid)

  writeFileSync(join(dir, 'index.mjs'), handlerSource('second'))
  const started = Date.now()
  const second = await invokeUntil(lambda, 'hot', 'second')
  assert.equal(second.answer, 'second')
  assert.ok(Date.now() - started < 2000, `took ${String(Date.now() - started)} ms`)
  assert.notEqual(second.pid, first.pid)
  const config = await lambda.send(new GetFunctionCommand({ FunctionName: 'hot' }))
  assert.notEqual(config.Configuration?.CodeSha256, created.CodeSha256)
  assert.equal(config.Configuration?.CodeSize, Buffer.byteLength(handlerSource('second')))
  assert.match(server.output(), /code changed/)

  // After a restart the directory is watched again.
  await server.stop()
  servers.pop()
  const again = await startServerProcess({ dataDir })
  servers.push(again)
  const lambda2 = client(again.url)
  assert.equal((await invoke(lambda2, 'hot')).answer, 'second')
  writeFileSync(join(dir, 'index.mjs'), handlerSource('third'))
  assert.equal((await invokeUntil(lambda2, 'hot', 'third')).answer, 'third')

  // Code from a zip: the directory is no longer the function's code, nor watched.
  const zipDir = handlerDir('zipped')
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'fn.zip', 'index.mjs'], { cwd: zipDir })
  await lambda2.send(
    new UpdateFunctionCodeCommand({
      FunctionName: 'hot',
      ZipFile: readFileSync(join(zipDir, 'fn.zip')),
    }),
  )
  assert.equal((await invokeUntil(lambda2, 'hot', 'zipped')).answer, 'zipped')
  writeFileSync(join(dir, 'index.mjs'), handlerSource('fourth'))
  await sleep(800)
  assert.equal((await invoke(lambda2, 'hot')).answer, 'zipped')

  // And back to the directory through UpdateFunctionCode.
  await lambda2.send(
    new UpdateFunctionCodeCommand({ FunctionName: 'hot', S3Bucket: 'hot-reload', S3Key: dir }),
  )
  assert.equal((await invokeUntil(lambda2, 'hot', 'fourth')).answer, 'fourth')
  await lambda2.send(new DeleteFunctionCommand({ FunctionName: 'hot' }))
})

test('a code directory that is missing, relative or a file is refused, naming the path', async () => {
  const server = await startServerProcess()
  servers.push(server)
  const lambda = client(server.url)
  const dir = handlerDir('x')
  const cases = [
    [join(dir, 'nowhere'), /does not exist: .*nowhere/],
    [join(dir, 'index.mjs'), /not a directory: .*index\.mjs/],
    ['relative/dir', /absolute path: relative\/dir/],
  ] as const
  for (const [path, message] of cases) {
    await assert.rejects(create(lambda, 'bad', path), (e: Error) => {
      assert.equal(e.name, 'InvalidParameterValueException')
      assert.match(e.message, message)
      return true
    })
  }
})
