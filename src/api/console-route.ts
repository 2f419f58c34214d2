/**
 * @module
 * `GET /console` and `GET /console/*`: the console's built files (console/dist, made by the
 * install step), read once into memory with a gzip copy of each compressible file, so that a
 * request costs a map lookup. Paths under /console that name no file get index.html (the console
 * routes in the browser); hashed files under /console/assets/ are cached for good by browsers.
 * The files are looked up by name in that map, never joined onto a disk path, so no request can
 * reach outside the folder.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

export const CONSOLE_PATH = '/console'

/** console/dist from the package root: this file is two levels down both in src/ and in dist/. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/dist/', import.meta.url))

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt'])

type StaticFile = { type: string; body: Buffer; gzip?: Buffer; immutable: boolean }

export const isConsolePath = (path: string): boolean =>
  path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`)

/** The handler for one console folder; the files are read at the first request that finds them. */
export function createConsoleRoute(dir: string = DEFAULT_CONSOLE_DIR) {
  let files: Map<string, StaticFile> | undefined

  const load = (): Map<string, StaticFile> | undefined => {
    // Not cached while missing: a build made after the start is picked up.
    if (files || !existsSync(join(dir, 'index.html'))) return files
    const found = new Map<string, StaticFile>()
    for (const file of walk(dir)) {
      const name = relative(dir, file).split(sep).join('/')
      const ext = extname(name).toLowerCase()
      const body = readFileSync(file)
      const entry: StaticFile = {
        type: TYPES[ext] ?? 'application/octet-stream',
        body,
        // Vite names what it builds into assets/ after the content's hash.
        immutable: name.startsWith('assets/'),
      }
      if (COMPRESSIBLE.has(ext) && body.length > 256) entry.gzip = gzipSync(body, { level: 9 })
      found.set(name, entry)
    }
    files = found
    return files
  }

  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      res.end('The console is read with GET.\n')
      return
    }
    if (path === CONSOLE_PATH) {
      res.writeHead(301, { location: `${CONSOLE_PATH}/` })
      res.end()
      return
    }
    const all = load()
    if (!all) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(
        'The console is not built. Build it with `npm run build -w console` (the install step does it), then reload.\n',
      )
      return
    }
    let name: string
    try {
      name = decodeURIComponent(path.slice(CONSOLE_PATH.length + 1))
    } catch {
      name = ''
    }
    let file = all.get(name)
    if (!file) {
      if (name.startsWith('assets/')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`No such console file: ${name}\n`)
        return
      }
      // A view's address (/console/rules/…): the page itself decides what to show.
      file = all.get('index.html')!
    }
    const accepts = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')
    const body = accepts && file.gzip ? file.gzip : file.body
    const headers: Record<string, string | number> = {
      'content-type': file.type,
      'content-length': body.length,
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    }
    if (file.gzip) headers.vary = 'accept-encoding'
    if (body === file.gzip) headers['content-encoding'] = 'gzip'
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry)
    if (statSync(full).isDirectory()) yield* walk(full)
    else yield full
  }
}
