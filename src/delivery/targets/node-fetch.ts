/**
 * @module
 * A `fetch` over node:http/https with keep-alive agents. The global fetch follows the browser
 * spec and adds headers of its own (`accept`, `accept-language`, `sec-fetch-mode`, and
 * `identity` appended to `accept-encoding` when a Range is sent), so requests to API
 * destinations would not carry exactly the headers EventBridge sends. This sends only the
 * headers it is given, never follows redirects, and is also quicker on loopback.
 */
import http from 'node:http'
import https from 'node:https'
import { Readable } from 'node:stream'

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
}

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NO_BODY = new Set([101, 103, 204, 205, 304])

/** Starts a request with exactly `call.headers` (plus Content-Length) on the keep-alive agents. */
export function nodeRequest(
  call: { url: string; method: string; headers: Headers; body: string | undefined },
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const url = new URL(call.url)
  const secure = url.protocol === 'https:'
  const headers: Record<string, string> = {}
  call.headers.forEach((value, key) => {
    headers[key] = value
  })
  if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body))
  return (secure ? https : http).request(
    url,
    { method: call.method, headers, agent: secure ? agents.https : agents.http },
    onResponse,
  )
}

export const nodeFetch: typeof fetch = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const secure = url.protocol === 'https:'
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value
    })
    const body = init?.body
    if (body !== undefined && body !== null && typeof body !== 'string') {
      reject(new TypeError('nodeFetch sends string bodies only'))
      return
    }
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body))
    const method = init?.method ?? 'GET'
    const options: http.RequestOptions = {
      method,
      headers,
      agent: secure ? agents.https : agents.http,
    }
    if (init?.signal) options.signal = init.signal
    const req = (secure ? https : http).request(url, options, (res) => {
      const responseHeaders = new Headers()
      for (const [key, value] of Object.entries(res.headers)) {
        if (Array.isArray(value)) for (const v of value) responseHeaders.append(key, v)
        else if (value !== undefined) responseHeaders.set(key, value)
      }
      const status = res.statusCode ?? 0
      const empty = method === 'HEAD' || NO_BODY.has(status)
      if (empty) res.resume()
      try {
        resolve(
          new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage ?? '',
            headers: responseHeaders,
          }),
        )
      } catch (e) {
        res.destroy()
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    })
    req.on('error', reject)
    req.end(typeof body === 'string' ? body : undefined)
  })
