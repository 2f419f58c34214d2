/**
 * @module
 * The API-destination target kind: an HTTP call to the destination's endpoint with the
 * connection's authorization, as EventBridge makes it.
 *
 * AWS behaviour this follows (sources in brackets; "UG" is the EventBridge user guide):
 * - Request shape, headers, timeout (5 s), parameter precedence: see `http-request.ts`.
 * - Values of target HttpParameters starting with `$.` are JSONPath into the original event
 *   (dynamic parameters) [reference §5.1; UG "Amazon EventBridge input transformation"].
 * - Retries: "Retries events associated with error codes 401, 407, 409, 429, and 5xx. Does not
 *   retry events associated with error codes 1xx, 2xx, 3xx, and 4xx (other than those noted
 *   above)" [current UG "API destination error codes", as quoted by two independent projects;
 *   the 2021 UG text said only 429 and 5xx]. Timeouts are retried [UG API destinations].
 * - "If Retry-After value is negative, EventBridge stops retrying delivery for that event" [UG].
 *   A positive one is passed on: the retry waits at least that long (and the backoff).
 * - Basic/API-key connections are de-authorized when the endpoint answers 401 or 407; OAuth ones
 *   when the token cannot be refreshed; requests through a de-authorized connection fail until it
 *   is updated [UG "De-authorizing connections"].
 * - OAuth tokens are refreshed on 401/407 and when about to expire [UG "Authorization methods for
 *   connections"]. AWS then relies on the target's retry policy to resend; we resend once at once
 *   with the new token (Junction's choice: no backoff delay for a routine token expiry).
 * - DLQ ERROR_CODE values come from AWS's documented list [UG "Using dead-letter queues"]:
 *   NO_RESOURCE (destination or connection gone), NO_PERMISSIONS (connection not authorized),
 *   THROTTLING (429), TIMEOUT, SDK_CLIENT_ERROR (unreachable endpoint — observed on AWS with
 *   "Unable to invoke ApiDestination endpoint: API destination endpoint cannot be reached."),
 *   INVALID_PARAMETER (a URL or header HTTP cannot carry). The code AWS uses for an HTTP error
 *   status is not documented; we use SDK_CLIENT_ERROR (assumed). AWS was seen reporting a timeout
 *   as UNKNOWN with "Timeout calling endpoint for API Destination"; we say TIMEOUT.
 * - Unlike AWS, `http://` endpoints are allowed.
 */
import type { Clock } from '../../clock.js'
import type { ApiDestination, Connection, ConnectionState, HttpParameters } from '../../model.js'
import { evaluatePath } from '../../transform/json-path.js'
import type { Invocation, InvocationResult, TargetAdapter } from './adapter.js'
import {
  API_DESTINATION_TIMEOUT_MS,
  DEFAULT_CONTENT_TYPE,
  fillPathWildcards,
  HeaderSet,
  type HttpOutcome,
  retryAfterSeconds,
  send,
  toHeaders,
} from './http-request.js'
import { OAuthTokenCache, type Token, type TokenOutcome } from './oauth-token-cache.js'
import { TokenBuckets } from './rate-limiter.js'

export type ApiDestinationDirectory = {
  apiDestination(arn: string): ApiDestination | undefined
  connection(arn: string): Connection | undefined
  /**
   * Records an authorization outcome on the connection, unless the connection was updated since
   * `basedOn` (its `modifiedAt` when the outcome was produced): a late 401 for old credentials
   * must not de-authorize new ones.
   */
  setConnectionState(
    arn: string,
    state: ConnectionState,
    stateReason: string | undefined,
    authorizedAt: number | undefined,
    basedOn?: number,
  ): void
}

export type ApiDestinationAdapter = TargetAdapter & {
  /**
   * Fetches an OAuth client-credentials token now (CreateConnection/UpdateConnection call this);
   * resolves after the state is recorded. Basic and API-key connections are recorded AUTHORIZED.
   */
  authorize(connectionArn: string): Promise<void>
  /** Forgets a cached token (DeauthorizeConnection, connection updated or deleted). */
  forget(connectionArn: string): void
}

export type ApiDestinationAdapterDeps = {
  directory: ApiDestinationDirectory
  clock: Clock
  fetch?: typeof fetch
  /** Per HTTP request (invocation or token fetch); AWS uses 5 s. */
  timeoutMs?: number
}

type OAuthAuth = Extract<Connection['auth'], { type: 'OAUTH_CLIENT_CREDENTIALS' }>

const ARN = /^arn:[^:]+:events:[^:]*:[^:]*:api-destination\/[^/]+\/[^/]+$/

/** Prefix AWS puts on API-destination DLQ error messages (seen in real DLQ messages). */
const PREFIX = 'Unable to invoke ApiDestination endpoint: '

/** Connection states through which nothing is sent. */
const UNUSABLE: ReadonlySet<ConnectionState> = new Set<ConnectionState>([
  'DEAUTHORIZED',
  'DEAUTHORIZING',
  'DELETING',
  'FAILED_CONNECTIVITY',
])

const DELIVERED: InvocationResult = { outcome: 'delivered' }

function failed(
  retryable: boolean,
  errorCode: string,
  errorMessage: string,
): Extract<InvocationResult, { outcome: 'failed' }> {
  return { outcome: 'failed', retryable, errorCode, errorMessage }
}

/** `name` of `arn:…:api-destination/<name>/<uuid>` (or `connection/<name>/<uuid>`). */
function nameOf(arn: string): string {
  const parts = arn.split('/')
  return parts.length >= 3 ? parts[parts.length - 2]! : arn
}

/** A target parameter value, or for `$.…` the value at that path in the original event. */
function resolve(value: string, envelope: Record<string, unknown>): string {
  if (!value.startsWith('$.')) return value
  const v = evaluatePath(envelope, value)
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (typeof v === 'object' && v !== null) return JSON.stringify(v)
  // No such field: an empty value (assumed; AWS does not document a path that matches nothing).
  return ''
}

/**
 * Connection body parameters added to a JSON-object body (connection wins on conflicts). AWS
 * only says body parameters are "additional body string parameters"; how they combine with the
 * event is not documented (assumed): a JSON object gains the keys, an empty body becomes an object
 * of them, any other body is sent unchanged.
 */
function mergeBody(body: string, params: Connection['invocationHttpParameters']['body']): string {
  if (params.length === 0) return body
  let obj: Record<string, unknown>
  if (body.trim() === '') obj = {}
  else {
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return body
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body
    obj = parsed as Record<string, unknown>
  }
  for (const p of params) obj[p.key] = p.value
  return JSON.stringify(obj)
}

type Prepared = {
  url: string
  method: string
  headers: Readonly<Record<string, string>>
  body: string | undefined
}

/** What {@link prepare} built last for a target, reused while nothing it depends on changed. */
type StaticParts = {
  dest: ApiDestination
  conn: Connection
  url: string
  headers: Readonly<Record<string, string>>
}

/**
 * The URL and headers of targets whose parameters read nothing from the event, by target object
 * (the registry replaces a target, destination or connection object when it changes). Building
 * them is most of an invocation's CPU otherwise.
 */
const staticParts = new WeakMap<object, StaticParts>()

const isDynamic = (hp: HttpParameters): boolean =>
  (hp.pathParameterValues ?? []).some((v) => v.startsWith('$.')) ||
  Object.values(hp.queryStringParameters ?? {}).some((v) => v.startsWith('$.')) ||
  Object.values(hp.headerParameters ?? {}).some((v) => v.startsWith('$.'))

/** The request for one invocation, without OAuth's Authorization header. */
function prepare(
  dest: ApiDestination,
  conn: Connection,
  inv: Invocation,
): Prepared | { invalid: string } {
  const method = dest.httpMethod
  const body =
    method === 'GET' || method === 'HEAD'
      ? undefined
      : mergeBody(inv.body, conn.invocationHttpParameters.body)
  const hp: HttpParameters = inv.target.httpParameters ?? {}
  const cached = staticParts.get(inv.target)
  if (cached && cached.dest === dest && cached.conn === conn)
    return { url: cached.url, method, headers: cached.headers, body }
  const parts = urlAndHeaders(dest, conn, hp, () => inv.envelope)
  if ('invalid' in parts) return parts
  if (!isDynamic(hp)) staticParts.set(inv.target, { dest, conn, ...parts })
  return { ...parts, method, body }
}

function urlAndHeaders(
  dest: ApiDestination,
  conn: Connection,
  hp: HttpParameters,
  envelope: () => Record<string, unknown>,
): { url: string; headers: Record<string, string> } | { invalid: string } {
  const invocationParams = conn.invocationHttpParameters
  const value = (v: string) => (v.startsWith('$.') ? resolve(v, envelope()) : v)
  const pathValues = (hp.pathParameterValues ?? []).map(value)
  let url: URL
  try {
    url = new URL(fillPathWildcards(dest.invocationEndpoint, pathValues))
  } catch {
    return { invalid: `Invalid invocation endpoint ${dest.invocationEndpoint}.` }
  }
  if (hp.queryStringParameters) {
    for (const [k, v] of Object.entries(hp.queryStringParameters)) {
      url.searchParams.set(k, value(v))
    }
  }
  for (const p of invocationParams.queryString) url.searchParams.set(p.key, p.value)

  const headers = new HeaderSet()
  headers.set('Content-Type', DEFAULT_CONTENT_TYPE)
  if (hp.headerParameters) {
    for (const [k, v] of Object.entries(hp.headerParameters)) headers.set(k, value(v))
  }
  for (const p of invocationParams.headers) headers.set(p.key, p.value)
  const auth = conn.auth
  if (auth.type === 'BASIC') {
    const basic = Buffer.from(`${auth.username}:${auth.password}`).toString('base64')
    headers.set('Authorization', `Basic ${basic}`)
  } else if (auth.type === 'API_KEY') {
    headers.set(auth.apiKeyName, auth.apiKeyValue)
  }
  const built = toHeaders(headers)
  if ('invalid' in built) return { invalid: `Invalid header: ${built.invalid}` }
  return { url: url.toString(), headers: built.headers }
}

/** Maps an HTTP exchange to the invocation's result (see the module comment for the rules). */
function classify(res: HttpOutcome): InvocationResult {
  switch (res.kind) {
    case 'timeout':
      return failed(true, 'TIMEOUT', `${PREFIX}Timeout calling endpoint for API Destination.`)
    case 'unreachable':
      return failed(
        true,
        'SDK_CLIENT_ERROR',
        `${PREFIX}API destination endpoint cannot be reached: ${res.message}`,
      )
    case 'response':
      break
  }
  const status = res.status
  if (status >= 200 && status <= 299) return DELIVERED
  const message = `${PREFIX}The endpoint responded with status code ${status}.`
  const retryAfter = retryAfterSeconds(res.headers)
  if (retryAfter !== undefined && retryAfter < 0) {
    return failed(false, status === 429 ? 'THROTTLING' : 'SDK_CLIENT_ERROR', message)
  }
  const result =
    status === 429
      ? failed(true, 'THROTTLING', message)
      : failed(
          status === 401 || status === 407 || status === 409 || status >= 500,
          'SDK_CLIENT_ERROR',
          message,
        )
  if (retryAfter !== undefined && result.retryable) result.retryAfterMs = retryAfter * 1000
  return result
}

export function createApiDestinationAdapter(
  deps: ApiDestinationAdapterDeps,
): ApiDestinationAdapter {
  const { directory, clock } = deps
  const fetchFn = deps.fetch
  const timeoutMs = deps.timeoutMs ?? API_DESTINATION_TIMEOUT_MS
  const buckets = new TokenBuckets(clock)

  const record = (conn: Connection, outcome: TokenOutcome): void => {
    if (outcome.ok) {
      directory.setConnectionState(conn.arn, 'AUTHORIZED', undefined, clock.now(), conn.modifiedAt)
    } else if (outcome.transient !== true) {
      directory.setConnectionState(
        conn.arn,
        'DEAUTHORIZED',
        outcome.reason,
        undefined,
        conn.modifiedAt,
      )
    }
  }
  const tokens = new OAuthTokenCache({ clock, fetch: fetchFn, timeoutMs, onOutcome: record })

  /** A token could not be had: retry later when that was transient, else not authorized. */
  const noToken = (conn: Connection, outcome: { reason: string; transient?: boolean }) =>
    outcome.transient === true
      ? failed(true, 'SDK_CLIENT_ERROR', `${PREFIX}${outcome.reason}`)
      : notAuthorized(conn, outcome.reason)

  const notAuthorized = (conn: Connection, reason: string | undefined): InvocationResult =>
    failed(
      false,
      'NO_PERMISSIONS',
      `${PREFIX}Connection ${conn.name} is not authorized${reason ? `: ${reason}` : '.'}`,
    )

  /** Sends with OAuth: a cached or fetched token, and one resend with a new token on 401/407. */
  async function sendOAuth(conn: Connection, auth: OAuthAuth, req: Prepared) {
    const first = await tokens.get(conn, auth)
    if (!first.ok) return noToken(conn, first)
    let used: Token = first.token
    req.headers = { ...req.headers, authorization: used.authorization }
    let res = await send(fetchFn, clock, timeoutMs, req, false)
    if (res.kind === 'response' && (res.status === 401 || res.status === 407)) {
      const again = await tokens.refresh(conn, auth, used)
      if (!again.ok) return noToken(conn, again)
      used = again.token
      req.headers = { ...req.headers, authorization: used.authorization }
      res = await send(fetchFn, clock, timeoutMs, req, false)
    }
    return classify(res)
  }

  return {
    kind: 'api-destination',

    accepts: (arn) => ARN.test(arn),

    async invoke(inv) {
      const arn = inv.target.arn
      const dest = directory.apiDestination(arn)
      if (!dest) {
        buckets.delete(arn)
        return failed(
          false,
          'NO_RESOURCE',
          `${PREFIX}API destination ${nameOf(arn)} does not exist.`,
        )
      }
      const conn = directory.connection(dest.connectionArn)
      if (!conn) {
        return failed(
          false,
          'NO_RESOURCE',
          `${PREFIX}Connection ${nameOf(dest.connectionArn)} does not exist.`,
        )
      }
      if (UNUSABLE.has(conn.state)) return notAuthorized(conn, conn.stateReason)

      const wait = buckets.take(dest.arn, dest.invocationRateLimitPerSecond)
      if (wait > 0) return { outcome: 'throttled', retryAfterMs: wait }

      const req = prepare(dest, conn, inv)
      if ('invalid' in req) return failed(false, 'INVALID_PARAMETER', `${PREFIX}${req.invalid}`)

      const auth = conn.auth
      if (auth.type === 'OAUTH_CLIENT_CREDENTIALS') return sendOAuth(conn, auth, req)

      const res = await send(fetchFn, clock, timeoutMs, req, false)
      if (res.kind === 'response' && (res.status === 401 || res.status === 407)) {
        // UG "De-authorizing connections": Basic/API key connections are de-authorized on 401/407.
        const reason = `The endpoint responded with status code ${res.status}.`
        directory.setConnectionState(conn.arn, 'DEAUTHORIZED', reason, undefined, conn.modifiedAt)
        return notAuthorized(conn, reason)
      }
      return classify(res)
    },

    async authorize(connectionArn) {
      const conn = directory.connection(connectionArn)
      if (!conn) return
      const auth = conn.auth
      if (auth.type !== 'OAUTH_CLIENT_CREDENTIALS') {
        // Basic and API key connections are authorized at once [reference §2.2, LS-V].
        directory.setConnectionState(
          connectionArn,
          'AUTHORIZED',
          undefined,
          clock.now(),
          conn.modifiedAt,
        )
        return
      }
      // The credentials may have changed: a fetch already in flight must not be joined.
      tokens.forget(connectionArn)
      await tokens.fetchNow(conn, auth)
    },

    forget(connectionArn) {
      tokens.forget(connectionArn)
    },
  }
}
