/**
 * Functions in distributed mode: a function created through one node runs on another that never
 * saw its package, after the node that took CreateFunction died with its disk (each node has
 * its own data directory, so its own code root): the package travels through the store, is
 * checked against its SHA-256 and unpacked there. An update of the code made through a third
 * node, gone as well, reaches the other node's next invocation the same way.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { natsNodes } from '../helpers/nats-nodes.js'

const ACCOUNT = '111111111111'
const AUTH = `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20261205/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0`

const cluster = natsNodes()

before(() => cluster.start())

const scratch: string[] = []
after(async () => {
  await cluster.close()
  for (const d of scratch) rmSync(d, { recursive: true, force: true })
})

async function lambda(url: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: r.status, text: await r.text() }
}

/** A zip made by Python's zipfile (not by the code under test) holding one handler. */
function packageOf(handlerSource: string): string {
  const work = mkdtempSync(join(tmpdir(), 'junction-fn-'))
  scratch.push(work)
  writeFileSync(join(work, 'index.mjs'), handlerSource)
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-c', 'fn.zip', 'index.mjs'], { cwd: work })
  return readFileSync(join(work, 'fn.zip')).toString('base64')
}

test('a function created on a node that is gone runs on another, and a code update follows', async () => {
  const a = await cluster.node()
  const b = await cluster.node()
  const created = await lambda(a.url, 'POST', '/2015-03-31/functions', {
    FunctionName: 'greeter',
    Runtime: 'nodejs20.x',
    Role: `arn:aws:iam::${ACCOUNT}:role/any`,
    Handler: 'index.handler',
    Code: { ZipFile: packageOf('export const handler = async (e) => ({ hello: e.name, v: 1 })\n') },
  })
  assert.equal(created.status, 201, created.text)
  await cluster.lose(a)

  const invokeOnB = () =>
    lambda(b.url, 'POST', '/2015-03-31/functions/greeter/invocations', { name: 'widget' })
  // B learns of the function through the configuration bucket (within a second).
  let answer = await invokeOnB()
  for (let i = 0; answer.status === 404 && i < 50; i++) {
    await sleep(100)
    answer = await invokeOnB()
  }
  assert.equal(answer.status, 200, answer.text)
  assert.deepEqual(JSON.parse(answer.text), { hello: 'widget', v: 1 })

  const c = await cluster.node()
  const updated = await lambda(c.url, 'PUT', '/2015-03-31/functions/greeter/code', {
    ZipFile: packageOf('export const handler = async (e) => ({ hello: e.name, v: 2 })\n'),
  })
  assert.equal(updated.status, 200, updated.text)
  await cluster.lose(c)
  const deadline = Date.now() + 10_000
  for (;;) {
    answer = await invokeOnB()
    assert.equal(answer.status, 200, answer.text)
    if ((JSON.parse(answer.text) as { v: number }).v === 2) break
    assert.ok(Date.now() < deadline, `B still runs the old code: ${answer.text}`)
    await sleep(100)
  }
})
