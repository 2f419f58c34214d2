/**
 * The console's files as `junction serve` answers them under /console: content types, index.html
 * for a view's address, long caching for hashed assets only, gzip when asked for, nothing outside
 * the folder, and a clear 404 while the console is not built. The files are real ones in a
 * temporary folder, served through the server's own request listener.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { after, before, describe, test } from 'node:test'
import { createRequestListener } from '../../src/api/server.js'
import { createAuthenticator } from '../../src/auth/caller.js'
import { createBus, type Bus } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import { tempDir } from '../helpers/server.js'

const INDEX =
  '<!doctype html><title>Junction console</title><script src="/console/assets/index-abc123.js"></script>'
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))})\n`

let bus: Bus
const servers: Server[] = []

async function serve(consoleDir: string): Promise<string> {
  const listener = createRequestListener({
    services: bus.services,
    queues: bus.queues,
    authenticate: createAuthenticator({ account: '111111111111', region: 'us-east-1' }),
    metrics: bus.metrics,
    tail: bus.tail,
    log: bus.log,
    ready: () => true,
    consoleDir,
  })
  const server = createServer(listener)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
}

/** A raw GET (fetch would decompress and hide the encoding). */
function get(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

let built: string
let url: string

before(async () => {
  bus = await createBus({ ...DEFAULTS, store: 'memory' })
  // A folder inside a folder of its own: the file beside it must stay out of reach.
  built = join(tempDir('junction-console-'), 'dist')
  mkdirSync(join(built, 'assets'), { recursive: true })
  writeFileSync(join(built, 'index.html'), INDEX)
  writeFileSync(join(built, 'assets', 'index-abc123.js'), SCRIPT)
  writeFileSync(join(built, 'assets', 'style-def456.css'), 'body{margin:0}')
  writeFileSync(join(built, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  url = await serve(built)
})
after(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()))
  await bus.close()
})

describe('GET /console', () => {
  test('/console redirects to /console/, which is index.html, never cached for good', async () => {
    const bare = await get(`${url}/console`)
    assert.equal(bare.status, 301)
    assert.equal(bare.headers.location, '/console/')
    const page = await get(`${url}/console/`)
    assert.equal(page.status, 200)
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(page.headers['cache-control'], 'no-cache')
    assert.equal(page.body.toString(), INDEX)
  })

  test("a view's address under /console gets index.html", async () => {
    for (const path of ['/console/rules', '/console/tail/orders?x=1', '/console/a/b/c']) {
      const res = await get(url + path)
      assert.equal(res.status, 200, path)
      assert.equal(res.body.toString(), INDEX, path)
    }
  })

  test('hashed assets: their content type and an immutable cache', async () => {
    const js = await get(`${url}/console/assets/index-abc123.js`)
    assert.equal(js.status, 200)
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8')
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.equal(js.body.toString(), SCRIPT)
    const css = await get(`${url}/console/assets/style-def456.css`)
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8')
    assert.equal(css.body.toString(), 'body{margin:0}')
    const svg = await get(`${url}/console/favicon.svg`)
    assert.equal(svg.headers['content-type'], 'image/svg+xml')
    assert.equal(svg.headers['cache-control'], 'no-cache')
  })

  test('gzip only when the client accepts it, and the same bytes once unzipped', async () => {
    const zipped = await get(`${url}/console/assets/index-abc123.js`, {
      'accept-encoding': 'br, gzip, deflate',
    })
    assert.equal(zipped.headers['content-encoding'], 'gzip')
    assert.equal(zipped.headers.vary, 'accept-encoding')
    assert.ok(zipped.body.length < SCRIPT.length / 10)
    assert.equal(Number(zipped.headers['content-length']), zipped.body.length)
    assert.equal(gunzipSync(zipped.body).toString(), SCRIPT)
    const plain = await get(`${url}/console/assets/index-abc123.js`)
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.equal(plain.body.toString(), SCRIPT)
  })

  test('a missing asset is a 404, not the page', async () => {
    const res = await get(`${url}/console/assets/gone-000000.js`)
    assert.equal(res.status, 404)
    assert.match(res.body.toString(), /No such console file: assets\/gone-000000\.js/)
  })

  test('nothing outside the folder is reachable', async () => {
    writeFileSync(join(built, '..', 'secret.txt'), 'secret')
    for (const path of [
      '/console/../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/assets/%2e%2e/%2e%2e/secret.txt',
      '/console/..%2Fsecret.txt',
    ]) {
      const res = await get(url + path)
      // The page for a view's address, or a 404: never the file beside the folder.
      if (res.status === 200) assert.equal(res.body.toString(), INDEX, path)
      else assert.equal(res.status, 404, path)
    }
  })

  test('HEAD has the headers and no body; other methods are refused', async () => {
    const head = await get(`${url}/console/`, {}, 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(Number(head.headers['content-length']), Buffer.byteLength(INDEX))
    assert.equal(head.body.length, 0)
    const post = await get(`${url}/console/`, {}, 'POST')
    assert.equal(post.status, 405)
    assert.equal(post.headers.allow, 'GET, HEAD')
  })

  test('before the console is built: a 404 that says how to build it; found once built', async () => {
    const dir = tempDir('junction-console-missing-')
    const at = await serve(join(dir, 'dist'))
    const res = await get(`${at}/console/`)
    assert.equal(res.status, 404)
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.match(
      res.body.toString(),
      /The console is not built\. Build it with `npm run build -w console`/,
    )
    mkdirSync(join(dir, 'dist'))
    writeFileSync(join(dir, 'dist', 'index.html'), INDEX)
    const later = await get(`${at}/console/`)
    assert.equal(later.status, 200)
    assert.equal(later.body.toString(), INDEX)
  })

  test('the API next to it is unchanged', async () => {
    const health = await get(`${url}/health`)
    assert.equal(health.status, 200)
    const other = await get(`${url}/consoles`)
    assert.equal(other.status, 404)
    assert.equal(other.headers['content-type'], 'application/json')
  })
})
