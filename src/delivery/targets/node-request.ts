/**
 * @module
 * Requests over node:http/https with keep-alive agents, the default transport of API
 * destinations. The global fetch follows the browser spec and adds headers of its own (`accept`,
 * `accept-language`, `sec-fetch-mode`, and `identity` appended to `accept-encoding` when a Range
 * is sent), so requests would not carry exactly the headers EventBridge sends. This sends only
 * the headers it is given, never follows redirects, and costs less CPU.
 */
import http from 'node:http'
import https from 'node:https'

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
}

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
