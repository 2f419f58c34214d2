/**
 * @module
 * The default transport of API destinations: undici's `request` over one connection pool per
 * endpoint origin. The global fetch follows the browser spec and adds headers of its own
 * (`accept`, `accept-language`, `sec-fetch-mode`, `identity` appended to `accept-encoding` when a
 * Range is sent), so requests would not carry exactly the headers EventBridge sends; this sends
 * only the headers it is given, never follows redirects, and costs about half the CPU of
 * node:http's client per request (measured with the sink of `bench:ingest`).
 */
import { Agent, type Dispatcher } from 'undici'

/**
 * Connections per origin: as many as the dispatcher runs invocations at once, so that a slow
 * endpoint (hundreds of ms per answer) still gets every invocation in flight at once; a fast
 * one is served by the few connections it needs (undici opens them on demand).
 */
export const CONNECTIONS_PER_ORIGIN = 256

const agent = new Agent({
  connections: CONNECTIONS_PER_ORIGIN,
  // Keep-alive as EventBridge does not (it sends `Connection: close`): latency matters more here.
  keepAliveTimeout: 60_000,
  // Our own timer (on the injectable clock) bounds the whole exchange.
  headersTimeout: 0,
  bodyTimeout: 0,
})

export type TransportResponse = {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The body as text when asked for, at most `limit` bytes of it. */
  text: string | undefined
}

/** Where a URL's requests go, per URL: most deliveries go to a handful of endpoints. */
const targets = new Map<string, { origin: string; path: string }>()
const MAX_TARGETS = 1024

export function targetOf(url: string): { origin: string; path: string } {
  let t = targets.get(url)
  if (!t) {
    const u = new URL(url)
    t = { origin: u.origin, path: `${u.pathname}${u.search}` }
    if (targets.size >= MAX_TARGETS) targets.clear()
    targets.set(url, t)
  }
  return t
}

/** Ends an exchange early (the caller's timeout); the promise then resolves with `undefined`. */
export type Cancel = () => void

/**
 * One exchange with exactly `call.headers` (plus Host, Content-Length and Connection), through
 * undici's dispatcher API: no response stream, promise chain or AbortSignal per request, which
 * is most of what a request costs otherwise. Reads the body as text when `readText` is set, else
 * discards it; a body over `limit` bytes ends the exchange (and its connection) at the limit.
 * Resolves `undefined` once cancelled; rejects on network errors.
 */
export function transportRequest(
  call: {
    url: string
    method: string
    headers: Readonly<Record<string, string>>
    body: string | undefined
  },
  readText: boolean,
  limit: number,
): { response: Promise<TransportResponse | undefined>; cancel: Cancel } {
  const { origin, path } = targetOf(call.url)
  let controller: Dispatcher.DispatchController | undefined
  let settled = false
  let cancelled = false
  let resolve!: (r: TransportResponse | undefined) => void
  let reject!: (e: Error) => void
  const response = new Promise<TransportResponse | undefined>((res, rej) => {
    resolve = res
    reject = rej
  })
  let status = 0
  let headers: Record<string, string | string[] | undefined> = {}
  const chunks: Buffer[] = []
  let size = 0
  const done = () => {
    if (settled) return
    settled = true
    resolve({
      status,
      headers,
      text: readText ? Buffer.concat(chunks).subarray(0, limit).toString('utf8') : undefined,
    })
  }
  agent.dispatch(
    {
      origin,
      path,
      method: call.method,
      headers: call.headers,
      body: call.body ?? null,
    },
    {
      onRequestStart(c) {
        controller = c
        if (cancelled) c.abort(new Error('cancelled'))
      },
      onResponseStart(_c, statusCode, h) {
        status = statusCode
        headers = h
      },
      onResponseData(c, chunk) {
        if (settled) return
        size += chunk.length
        if (readText) chunks.push(chunk)
        if (size >= limit) {
          done()
          c.abort(new Error('response body over the limit'))
        }
      },
      onResponseEnd() {
        done()
      },
      onResponseError(_c, error) {
        if (settled) return
        settled = true
        reject(error)
      },
    },
  )
  return {
    response,
    cancel() {
      if (settled) return
      settled = true
      cancelled = true
      controller?.abort(new Error('cancelled'))
      resolve(undefined)
    },
  }
}
