/**
 * kill -9 of `junction serve` with asynchronous invocations queued, through the Lambda API and
 * the process runtime: a function held at reserved concurrency 0 (so every invocation waits,
 * throttled, in the store) is invoked with `InvocationType: Event` from many requests at once;
 * the server is killed while they arrive. After the restart and DeleteFunctionConcurrency, every
 * invocation that was answered 202 runs (the handler appends its number to a file).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startServerProcess } from '../helpers/server.js'

const ACCOUNT = '111111111111'
const AUTH = `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20261204/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0`

async function lambda(url: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: r.status, text: await r.text() }
}

test('asynchronous invocations acknowledged before kill -9 all run after the restart', async () => {
  const work = mkdtempSync(join(tmpdir(), 'junction-lambda-kill9-'))
  const out = join(work, 'ran.txt')
  writeFileSync(
    join(work, 'index.mjs'),
    "import { appendFileSync } from 'node:fs'\nexport const handler = async (e) => { appendFileSync(process.env.OUT, `${e.n}\\n`) }\n",
  )
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'fn.zip', 'index.mjs'], { cwd: work })

  const first = await startServerProcess()
  const created = await lambda(first.url, 'POST', '/2015-03-31/functions', {
    FunctionName: 'recorder',
    Runtime: 'nodejs20.x',
    Role: `arn:aws:iam::${ACCOUNT}:role/any`,
    Handler: 'index.handler',
    Environment: { Variables: { OUT: out } },
    Code: { ZipFile: readFileSync(join(work, 'fn.zip')).toString('base64') },
  })
  assert.equal(created.status, 201, created.text)
  const held = await lambda(first.url, 'PUT', '/2017-10-31/functions/recorder/concurrency', {
    ReservedConcurrentExecutions: 0,
  })
  assert.equal(held.status, 200, held.text)

  const acknowledged = new Set<number>()
  let next = 0
  let killed = false
  const sender = async () => {
    while (!killed) {
      const n = next++
      try {
        const r = await fetch(`${first.url}/2015-03-31/functions/recorder/invocations`, {
          method: 'POST',
          headers: { authorization: AUTH, 'x-amz-invocation-type': 'Event' },
          body: JSON.stringify({ n }),
        })
        if (r.status === 202) acknowledged.add(n)
        else await r.text()
      } catch {
        // The server is gone: this one was never acknowledged.
      }
    }
  }
  const senders = Array.from({ length: 16 }, sender)
  while (acknowledged.size < 300) await new Promise((r) => setTimeout(r, 5))
  await first.kill()
  killed = true
  await Promise.all(senders)
  assert.equal(existsSync(out), false, 'nothing ran while the function was held at 0')

  const second = await startServerProcess({ dataDir: first.dataDir })
  try {
    const freed = await lambda(second.url, 'DELETE', '/2017-10-31/functions/recorder/concurrency')
    assert.equal(freed.status, 204, freed.text)
    const ran = () =>
      new Set(
        existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).map(Number) : [],
      )
    const end = Date.now() + 60_000
    while ([...acknowledged].some((n) => !ran().has(n)) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 200))
    const missing = [...acknowledged].filter((n) => !ran().has(n))
    assert.deepEqual(
      missing,
      [],
      `${missing.length} of ${acknowledged.size} acknowledged never ran`,
    )
  } finally {
    assert.equal(await second.stop(), 0, second.output())
  }
})
