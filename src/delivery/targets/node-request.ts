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
import { urlToHttpOptions } from 'node:url'

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
}

/** Parsed request options per URL: most deliveries go to a handful of endpoints. */
const parsedUrls = new Map<string, http.RequestOptions>()
const MAX_PARSED_URLS = 1024

function requestOptions(url: string): http.RequestOptions {
  let options = parsedUrls.get(url)
  if (!options) {
    options = urlToHttpOptions(new URL(url))
    if (parsedUrls.size >= MAX_PARSED_URLS) parsedUrls.clear()
    parsedUrls.set(url, options)
  }
  return options
}

/** Starts a request with exactly `call.headers` (plus Content-Length) on the keep-alive agents. */
export function nodeRequest(
  call: {
    url: string
    method: string
    headers: Readonly<Record<string, string>>
    body: string | undefined
  },
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const options = requestOptions(call.url)
  const secure = options.protocol === 'https:'
  const headers =
    call.body === undefined
      ? call.headers
      : { ...call.headers, 'content-length': String(Buffer.byteLength(call.body)) }
  return (secure ? https : http).request(
    { ...options, method: call.method, headers, agent: secure ? agents.https : agents.http },
    onResponse,
  )
}
