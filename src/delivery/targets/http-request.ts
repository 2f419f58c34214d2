/**
 * @module
 * One HTTP exchange for API destinations and their OAuth token endpoints: the request EventBridge
 * would build, sent with undici (or an injected `fetch`) under a timeout on the injected clock.
 *
 * Sources (AWS EventBridge user guide unless noted):
 * - "Headers included in requests to API destinations":
 *   `User-Agent: Amazon/EventBridge/ApiDestinations`,
 *   `Content-Type: application/json; charset=utf-8`, `Range: bytes=0-1048575`,
 *   `Accept-Encoding: gzip,deflate`, `Connection: close`, plus Content-Length and Host.
 *   We deliberately do NOT send `Connection: close`: connections are kept alive for latency.
 * - Content-Type may be set by connection or target header parameters since 2024-02-29 (AWS
 *   What's New, "Amazon EventBridge API destinations content-type header customization").
 * - HttpParameters are "merged with any InvocationParameters specified on the Connection, with any
 *   values from the Connection taking precedence" (API reference, HttpParameters).
 * - PathParameterValues "populate … ApiDestination path wildcards ("*")" in order (same page).
 * - "EventBridge requests to an API destination endpoint must have a maximum client execution
 *   timeout of 5 seconds" (user guide, API destinations).
 * - Error handling lists 3xx among codes that are not retried, so EventBridge does not follow
 *   redirects; neither do we (`redirect: 'manual'`).
 * - Which headers EventBridge drops from configured parameters is taken from the current user
 *   guide as quoted by an emulator (ministack PR #1313); User-Agent and Range cannot be
 *   overridden. Transport headers (Host, Content-Length, Connection, …) are fetch's anyway.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http'
import type { Clock } from '../../clock.js'
import { targetOf, transportRequest } from './http-transport.js'

export const API_DESTINATION_TIMEOUT_MS = 5_000
export const USER_AGENT = 'Amazon/EventBridge/ApiDestinations'
export const DEFAULT_CONTENT_TYPE = 'application/json; charset=utf-8'
/** EventBridge reads at most the first MiB of a response (its `Range` header). */
export const MAX_RESPONSE_BYTES = 1_048_576

/** Headers EventBridge sets itself; configured values for them are ignored. */
const FIXED_HEADERS: readonly (readonly [string, string])[] = [
  ['user-agent', USER_AGENT],
  ['range', `bytes=0-${MAX_RESPONSE_BYTES - 1}`],
  ['accept-encoding', 'gzip,deflate'],
]

/** Configured headers EventBridge removes (and that fetch would reject or override anyway). */
const DROPPED_HEADERS = new Set([
  'a-im',
  'accept-charset',
  'accept-datetime',
  'accept-encoding',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-md5',
  'date',
  'expect',
  'forwarded',
  'from',
  'host',
  'http2-settings',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'keep-alive',
  'max-forwards',
  'origin',
  'pragma',
  'proxy-authorization',
  'range',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'via',
  'warning',
])

/**
 * Headers merged by case-insensitive name: a later {@link HeaderSet.set} replaces an earlier one
 * (so callers add lower-precedence sources first).
 */
export class HeaderSet {
  private readonly map = new Map<string, [string, string]>()

  set(name: string, value: string): void {
    const key = name.trim().toLowerCase()
    if (key === '' || DROPPED_HEADERS.has(key)) return
    this.map.set(key, [name.trim(), value])
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase())
  }

  /**
   * The final headers by lower-case name, with EventBridge's fixed headers last (unless `fixed`
   * is false). Throws a TypeError (node:http's words) for a name or value HTTP cannot carry.
   */
  toHeaders(fixed = true): Record<string, string> {
    const h: Record<string, string> = {}
    for (const [key, [name, value]] of this.map) {
      validateHeaderName(name)
      validateHeaderValue(name, value)
      h[key] = value
    }
    if (fixed) for (const [name, value] of FIXED_HEADERS) h[name] = value
    return h
  }
}

/** Replaces each `*` in the endpoint's path, in order, by the next value (URL-encoded). */
export function fillPathWildcards(endpoint: string, values: readonly string[]): string {
  if (values.length === 0) return endpoint
  // Only the path holds wildcards: skip scheme and authority, stop at the query or fragment.
  const authority = endpoint.indexOf('//')
  const pathStart = endpoint.indexOf('/', authority >= 0 ? authority + 2 : 0)
  if (pathStart < 0) return endpoint
  let pathEnd = endpoint.length
  for (const c of ['?', '#']) {
    const i = endpoint.indexOf(c, pathStart)
    if (i >= 0 && i < pathEnd) pathEnd = i
  }
  let path = ''
  let next = 0
  for (let i = pathStart; i < pathEnd; i++) {
    const c = endpoint[i]!
    if (c === '*' && next < values.length) path += encodeURIComponent(values[next++]!)
    else path += c
  }
  return endpoint.slice(0, pathStart) + path + endpoint.slice(pathEnd)
}

/** The response headers the adapters read (a `Headers` or a view of node's header object). */
export type HeaderReader = { get(name: string): string | null }

export type HttpOutcome =
  | { kind: 'response'; status: number; headers: HeaderReader; text: string | undefined }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; message: string }

export type HttpCall = {
  url: string
  method: string
  /** By lower-case name; never mutated (callers may share one object between calls). */
  headers: Readonly<Record<string, string>>
  body: string | undefined
}

/**
 * Sends one request. Never rejects. The timeout covers connecting, the response and reading (or
 * discarding) its body; the body is read as text only when `readText` is set, and at most
 * {@link MAX_RESPONSE_BYTES} of it either way.
 */
export async function send(
  /** A `fetch` to send with (tests); by default undici ({@link sendWithTransport}). */
  fetchFn: typeof fetch | undefined,
  clock: Clock,
  timeoutMs: number,
  call: HttpCall,
  readText: boolean,
): Promise<HttpOutcome> {
  if (fetchFn === undefined) return sendWithTransport(clock, timeoutMs, call, readText)
  const controller = new AbortController()
  // Only our timer aborts, so an aborted signal means the request timed out.
  const cancel = clock.setTimer(timeoutMs, () => {
    controller.abort()
  })
  try {
    const init: RequestInit = {
      method: call.method,
      headers: call.headers,
      redirect: 'manual',
      signal: controller.signal,
    }
    if (call.body !== undefined) init.body = call.body
    const res = await fetchFn(call.url, init)
    const text = await readBody(res, readText)
    return { kind: 'response', status: res.status, headers: res.headers, text }
  } catch (err) {
    if (controller.signal.aborted) return { kind: 'timeout' }
    return { kind: 'unreachable', message: describeError(err) }
  } finally {
    cancel()
  }
}

/**
 * The same exchange over the default transport ({@link transportRequest}): no web `Response` or
 * stream in between, which costs much less CPU per invocation.
 */
async function sendWithTransport(
  clock: Clock,
  timeoutMs: number,
  call: HttpCall,
  readText: boolean,
): Promise<HttpOutcome> {
  let exchange: ReturnType<typeof transportRequest>
  let origin: string
  try {
    origin = targetOf(call.url).origin
    const down = refused.get(origin)
    if (down && clock.now() < down.until) return { kind: 'unreachable', message: down.message }
    exchange = transportRequest(call, readText, MAX_RESPONSE_BYTES)
  } catch (err) {
    return { kind: 'unreachable', message: describeError(err) }
  }
  const stop = clock.setTimer(timeoutMs, exchange.cancel)
  try {
    const res = await exchange.response
    // Only our timer cancels, so no response means the request timed out.
    if (res === undefined) return { kind: 'timeout' }
    refused.delete(origin)
    const headers = res.headers
    return {
      kind: 'response',
      status: res.status,
      headers: {
        get(name) {
          const v = headers[name.toLowerCase()]
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v
        },
      },
      text: res.text,
    }
  } catch (err) {
    const message = describeError(err)
    if (REFUSALS.has(String((err as { code?: unknown }).code))) {
      // Bounded like every cache here: forgetting an entry only means one more real attempt.
      if (refused.size >= MAX_REFUSED) refused.clear()
      refused.set(origin, { until: clock.now() + REFUSED_FOR_MS, message })
    }
    return { kind: 'unreachable', message }
  } finally {
    stop()
  }
}

/**
 * Origins that refused a connection (or whose name did not resolve) within the last
 * {@link REFUSED_FOR_MS}: invocations to them fail at once with the same error instead of
 * trying again. A target that is down otherwise costs a connection attempt per retry of every
 * pending event, which took most of the CPU that ingest needed (a backlog of retries to a dead
 * endpoint cut PutEvents to a tenth). The attempt still counts and is retried with backoff, as
 * if the connection had been tried; a server that comes back is reached within that time.
 */
const refused = new Map<string, { until: number; message: string }>()
const REFUSED_FOR_MS = 1_000
const MAX_REFUSED = 1_024
const REFUSALS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/** Reads (or drains, so the connection can be reused) at most {@link MAX_RESPONSE_BYTES}. */
async function readBody(res: Response, asText: boolean): Promise<string | undefined> {
  const body = res.body
  if (!body) return asText ? '' : undefined
  const reader = (body as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (asText) chunks.push(value)
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel()
      break
    }
  }
  if (!asText) return undefined
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8')
}

/** `fetch failed (ECONNREFUSED)` and the like: fetch hides the useful part in `cause`. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause: unknown = err.cause
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return `${err.message} (${typeof code === 'string' ? code : cause.message})`
  }
  return err.message
}

/** The headers of a {@link HeaderSet}, or why a name or value is not acceptable to HTTP. */
export function toHeaders(
  set: HeaderSet,
  fixed = true,
): { headers: Record<string, string> } | { invalid: string } {
  try {
    return { headers: set.toHeaders(fixed) }
  } catch (err) {
    return { invalid: describeError(err) }
  }
}

/** Parses `Retry-After` as delta-seconds (possibly negative, which AWS treats as "stop"). */
export function retryAfterSeconds(headers: HeaderReader): number | undefined {
  const v = headers.get('retry-after')
  if (v === null || !/^\s*-?\d+\s*$/.test(v)) return undefined
  return Number(v)
}
