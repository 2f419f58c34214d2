/**
 * @module
 * OAuth client-credentials tokens for connections: fetched from the authorization endpoint,
 * cached until shortly before `expires_in`, one fetch in flight per connection.
 *
 * AWS behaviour relied on (user guide, "Authorization methods for connections"):
 * - "EventBridge exchanges your client ID and secret for an access token and then manages it".
 * - "EventBridge refreshes OAuth tokens: when a 401 or 407 response is returned; proactively
 *   during an HTTPS invocation, if the token is about to expire."
 * - De-authorizing connections: "EventBridge de-authorizes a connection if … for connections using
 *   OAuth authentication, EventBridge cannot refresh the necessary OAuth token."
 *
 * Assumed (AWS does not document the token request's wire format): the client authenticates
 * with HTTP Basic (`client_id:client_secret`), the method RFC 6749 §2.3.1 says every server MUST
 * support (credentials are not also put in the body: RFC 6749 forbids using two methods at once);
 * parameters are `application/x-www-form-urlencoded` with `grant_type=client_credentials` unless
 * the connection's OAuthHttpParameters body parameters say otherwise (the body parameters are
 * where AWS's own examples put `grant_type`, `audience`, `scope`); for `GET` they go in the query
 * string. The response is RFC 6749 §5.1 JSON: `access_token`, `token_type`, `expires_in`.
 */
import type { Clock } from '../../clock.js'
import type { Connection } from '../../model.js'
import { describeError, HeaderSet, send, toHeaders, USER_AGENT } from './http-request.js'

type OAuthAuth = Extract<Connection['auth'], { type: 'OAUTH_CLIENT_CREDENTIALS' }>

export type Token = {
  /** The `Authorization` header value, e.g. `Bearer abc`. */
  authorization: string
  /** When the token stops being valid (ms since epoch), if the server said. */
  expiresAt: number | undefined
  /** From when on it is refreshed proactively: shortly before {@link Token.expiresAt}. */
  refreshAt: number | undefined
}

export type TokenOutcome =
  | { ok: true; token: Token }
  /** `transient`: a timeout, network error or 5xx: worth retrying, not a reason to de-authorize. */
  | { ok: false; reason: string; transient?: boolean }

type Entry = {
  /** Bumped by {@link OAuthTokenCache.forget}: a fetch started before it is not cached. */
  generation: number
  token: Token | undefined
  inflight: Promise<TokenOutcome> | undefined
}

/** Refresh a token this long before it expires (or a tenth of its lifetime, if shorter). */
const REFRESH_MARGIN_MS = 60_000

export type TokenCacheDeps = {
  clock: Clock
  /** A `fetch` to send with (tests); by default node:http. */
  fetch: typeof fetch | undefined
  timeoutMs: number
  /** Called once per completed fetch that is still current (not forgotten meanwhile). */
  onOutcome(connection: Connection, outcome: TokenOutcome): void
}

export class OAuthTokenCache {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly deps: TokenCacheDeps) {}

  /**
   * A usable token for the connection: the cached one if still valid (refreshed in the background
   * when about to expire), else a fetched one (joining a fetch already in flight).
   */
  async get(connection: Connection, auth: OAuthAuth): Promise<TokenOutcome> {
    const entry = this.entry(connection.arn)
    const token = entry.token
    if (token) {
      const now = this.deps.clock.now()
      if (token.expiresAt === undefined || token.refreshAt === undefined || now < token.refreshAt) {
        return { ok: true, token }
      }
      if (now < token.expiresAt) {
        // About to expire: refresh proactively, but do not make this invocation wait for it.
        void this.fetchOnce(connection, auth, entry)
        return { ok: true, token }
      }
    }
    return this.fetchOnce(connection, auth, entry)
  }

  /**
   * A token other than `rejected` (which the endpoint answered 401/407 to): a newer cached one if
   * another invocation already refreshed it, else a fresh fetch.
   */
  async refresh(connection: Connection, auth: OAuthAuth, rejected: Token): Promise<TokenOutcome> {
    const entry = this.entry(connection.arn)
    if (entry.token && entry.token !== rejected) return { ok: true, token: entry.token }
    entry.token = undefined
    return this.fetchOnce(connection, auth, entry)
  }

  /** Drops the cached token and any fetch in flight; a fetch already started is not cached. */
  forget(connectionArn: string): void {
    const entry = this.entries.get(connectionArn)
    if (!entry) return
    entry.generation++
    entry.token = undefined
    entry.inflight = undefined
  }

  /** Fetches a new token now, unless one is already being fetched (then joins it). */
  fetchNow(connection: Connection, auth: OAuthAuth): Promise<TokenOutcome> {
    const entry = this.entry(connection.arn)
    entry.token = undefined
    return this.fetchOnce(connection, auth, entry)
  }

  private entry(arn: string): Entry {
    let e = this.entries.get(arn)
    if (!e) {
      e = { generation: 0, token: undefined, inflight: undefined }
      this.entries.set(arn, e)
    }
    return e
  }

  private fetchOnce(connection: Connection, auth: OAuthAuth, entry: Entry): Promise<TokenOutcome> {
    if (entry.inflight) return entry.inflight
    const generation = entry.generation
    const p = this.requestToken(auth)
      .catch((err: unknown): TokenOutcome => ({ ok: false, reason: describeError(err) }))
      .then((outcome) => {
        if (entry.generation === generation) {
          entry.inflight = undefined
          if (outcome.ok) entry.token = outcome.token
          try {
            this.deps.onOutcome(connection, outcome)
          } catch {
            // Recording the state is best effort: the token is still good for delivery.
          }
        }
        return outcome
      })
    entry.inflight = p
    return p
  }

  private async requestToken(auth: OAuthAuth): Promise<TokenOutcome> {
    const params = auth.oauthHttpParameters
    const form = new URLSearchParams({ grant_type: 'client_credentials' })
    for (const p of params.body) form.set(p.key, p.value)

    let url: URL
    try {
      url = new URL(auth.authorizationEndpoint)
    } catch {
      return { ok: false, reason: `Invalid authorization endpoint ${auth.authorizationEndpoint}.` }
    }
    for (const p of params.queryString) url.searchParams.set(p.key, p.value)

    const headers = new HeaderSet()
    headers.set('Accept', 'application/json')
    headers.set(
      'Authorization',
      `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`,
    )
    let body: string | undefined
    if (auth.httpMethod === 'GET') {
      for (const [k, v] of form) url.searchParams.set(k, v)
    } else {
      headers.set('Content-Type', 'application/x-www-form-urlencoded')
      body = form.toString()
    }
    for (const p of params.headers) headers.set(p.key, p.value)
    const built = toHeaders(headers, false)
    if ('invalid' in built) return { ok: false, reason: `Invalid OAuth header: ${built.invalid}` }
    const h = { ...built.headers, 'user-agent': USER_AGENT }

    const endpoint = `${url.origin}${url.pathname}`
    const res = await send(
      this.deps.fetch,
      this.deps.clock,
      this.deps.timeoutMs,
      { url: url.toString(), method: auth.httpMethod, headers: h, body },
      true,
    )
    switch (res.kind) {
      case 'timeout':
        return {
          ok: false,
          transient: true,
          reason: `Timeout calling the authorization endpoint ${endpoint}.`,
        }
      case 'unreachable':
        return {
          ok: false,
          transient: true,
          reason: `The authorization endpoint ${endpoint} cannot be reached: ${res.message}`,
        }
      case 'response':
        break
    }
    if (res.status < 200 || res.status > 299) {
      return {
        ok: false,
        transient: res.status === 429 || res.status >= 500,
        reason: `The authorization endpoint ${endpoint} responded with status code ${res.status}.`,
      }
    }
    return this.parseToken(res.text ?? '', endpoint)
  }

  private parseToken(text: string, endpoint: string): TokenOutcome {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    const o = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {}
    const accessToken = o.access_token
    if (typeof accessToken !== 'string' || accessToken === '') {
      return {
        ok: false,
        reason: `The authorization endpoint ${endpoint} returned no access_token.`,
      }
    }
    const type = typeof o.token_type === 'string' && o.token_type !== '' ? o.token_type : 'Bearer'
    const scheme = type.toLowerCase() === 'bearer' ? 'Bearer' : type
    const authorization = `${scheme} ${accessToken}`
    const expiresIn = Number(o.expires_in)
    if (o.expires_in === undefined || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      return { ok: true, token: { authorization, expiresAt: undefined, refreshAt: undefined } }
    }
    const lifetime = expiresIn * 1000
    const expiresAt = this.deps.clock.now() + lifetime
    const refreshAt = expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 10)
    return { ok: true, token: { authorization, expiresAt, refreshAt } }
  }
}
