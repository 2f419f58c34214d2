/**
 * @module
 * The REST-JSON APIs the CLI uses besides EventBridge's and SQS's: Lambda's (signed for service
 * `lambda`, under `/2015-03-31/…`), EventBridge Scheduler's (service `scheduler`, `/schedules…`)
 * and Junction's own routes (`/junction/sources`, signed for `events` as the CLI signs them).
 * Errors come back as {@link ApiError} with the code from `x-amzn-ErrorType` or `__type`.
 */
import { ApiError, signed, type Identity } from './client.js'
import { eachPiece } from './stream-pieces.js'

export type RestRequest = {
  method?: string
  path: string
  query?: Record<string, string>
  body?: string
  headers?: Record<string, string>
  signal?: AbortSignal
}

async function send(id: Identity, service: string, r: RestRequest): Promise<Response> {
  const url = new URL(r.path, id.endpoint)
  for (const [k, v] of Object.entries(r.query ?? {})) url.searchParams.set(k, v)
  const method = r.method ?? 'GET'
  const body = r.body ?? ''
  const headers = { ...(body === '' ? {} : { 'content-type': 'application/json' }), ...r.headers }
  const req = await signed(id, service, method, url, headers, body)
  const res = await fetch(req.url, {
    method,
    headers: req.headers,
    ...(body === '' ? {} : { body }),
    ...(r.signal === undefined ? {} : { signal: r.signal }),
  })
  if (!res.ok) throw await errorOf(res)
  return res
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text()
  let e: { __type?: string; message?: string; Message?: string } = {}
  try {
    e = JSON.parse(text) as typeof e
  } catch {
    // not JSON: the text as it is
  }
  const code = res.headers.get('x-amzn-errortype') ?? e.__type ?? String(res.status)
  return new ApiError(code.replace(/[:#].*$/, ''), e.message ?? e.Message ?? text, res.status)
}

/** A REST-JSON call answered with JSON (or nothing), e.g. `rest(id, 'scheduler', {path: '/schedules'})`. */
export async function rest<T = Record<string, unknown>>(
  id: Identity,
  service: string,
  r: RestRequest,
): Promise<T> {
  const text = await (await send(id, service, r)).text()
  return (text === '' ? {} : JSON.parse(text)) as T
}

/** Lambda Invoke's answer: the payload as text, and the function's error when it failed. */
export type Invocation = { status: number; payload: string; functionError?: string }

/** Lambda's Invoke (RequestResponse): POST /2015-03-31/functions/NAME/invocations. */
export async function invoke(id: Identity, name: string, payload: string): Promise<Invocation> {
  const res = await send(id, 'lambda', {
    method: 'POST',
    path: `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`,
    body: payload,
  })
  const functionError = res.headers.get('x-amz-function-error')
  return {
    status: res.status,
    payload: await res.text(),
    ...(functionError === null ? {} : { functionError }),
  }
}

/**
 * A function's log lines, the recent ones then new ones as they come (`junction logs --follow`
 * reads the same route: GET /2015-03-31/functions/NAME/logs?follow=true), until `signal` aborts.
 */
export async function followLogs(
  id: Identity,
  name: string,
  onLine: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await send(id, 'lambda', {
    path: `/2015-03-31/functions/${encodeURIComponent(name)}/logs`,
    query: { follow: 'true', limit: '200' },
    signal,
  })
  if (!res.body) return
  await eachPiece(res.body, '\n', onLine)
}
