/**
 * @module
 * How the commands that talk to a running server (`tail`, `logs`, `query`, `replay`, `clock`)
 * find it and sign their requests, as the AWS CLI does:
 *
 * - The server: `--endpoint-url`, else `AWS_ENDPOINT_URL_<SERVICE>` (`_EVENTBRIDGE`, `_LAMBDA`
 *   for `junction logs`), else `AWS_ENDPOINT_URL`, else `JUNCTION_ENDPOINT` (the variable
 *   `junction tail` read before), else `http://127.0.0.1:4010`.
 * - The caller: the credentials of the SDK's default chain (`AWS_ACCESS_KEY_ID` and
 *   `AWS_SECRET_ACCESS_KEY`, else the profile of `--profile` or `AWS_PROFILE` in the shared
 *   credentials and config files, …), and every request is signed with SigV4, so a server
 *   started with `--auth sigv4` knows who calls and one with `--auth off` reads the account from
 *   the key. With no credentials anywhere the request goes unsigned and the server's default
 *   account applies; an `AWS_ACCESS_KEY_ID` without a secret still names the account to a
 *   server with `--auth off`, as before requests were signed. A profile named but not found is
 *   an error, as in the AWS CLI.
 * - The region: `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's
 *   `region`, else `us-east-1`.
 * - `--account` (tail, logs, query, replay) overrides all that for a server running with
 *   `--auth off`: the request is not signed and names that account. A server checking
 *   signatures refuses it.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { createHash, createHmac } from 'node:crypto'
import { profileExists, profileName, profileSetting } from '../aws-config.js'

export type ClientFlags = {
  endpointUrl?: string
  /** A profile of the shared credentials and config files (else `AWS_PROFILE`). */
  profile?: string
  region?: string
  /** Only for a server running `--auth off`: act as this account, unsigned. */
  account?: string
}

/** The signing name of the server's routes: `events` for EventBridge and Junction's own. */
export type Service = 'events' | 'lambda'

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4010'

const SERVICE_ENDPOINT_VARIABLE: Record<Service, string> = {
  events: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
  lambda: 'AWS_ENDPOINT_URL_LAMBDA',
}

export function endpointOf(flags: ClientFlags, service: Service = 'events'): string {
  const env = process.env
  return (
    flags.endpointUrl ??
    env[SERVICE_ENDPOINT_VARIABLE[service]] ??
    env.AWS_ENDPOINT_URL ??
    env.JUNCTION_ENDPOINT ??
    DEFAULT_ENDPOINT
  )
}

export function regionOf(flags: ClientFlags): string {
  const env = process.env
  return (
    flags.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    profileSetting(profileName(flags.profile), 'region') ??
    'us-east-1'
  )
}

const resolved = new Map<string, Promise<Credentials | undefined>>()

/**
 * The caller's credentials from the SDK's default chain, or undefined when there are none (the
 * request then goes unsigned). A profile named with `--profile` or `AWS_PROFILE` must resolve.
 */
export function resolveCredentials(flags: ClientFlags): Promise<Credentials | undefined> {
  const named = flags.profile ?? process.env.AWS_PROFILE
  const key = named ?? ''
  let found = resolved.get(key)
  if (!found) {
    found = load(named)
    resolved.set(key, found)
  }
  return found
}

async function load(profile: string | undefined): Promise<Credentials | undefined> {
  if (profile !== undefined && !profileExists(profile))
    throw new Error(`The config profile (${profile}) could not be found`)
  try {
    const c = await defaultProvider(profile === undefined ? {} : { profile })()
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }),
    }
  } catch (e) {
    if (profile === undefined) return undefined
    throw new Error(
      `Unable to locate credentials for the profile ${profile}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    )
  }
}

export type SignedInit = {
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
  /** The signing name the server's route expects (default `events`). */
  service?: Service
}

/**
 * `fetch`, signed as the caller (see the module's note). The query string is sent as SigV4
 * encodes it (`%20` for a space, never `+`), so that what the server sees is what was signed.
 */
export async function signedFetch(
  flags: ClientFlags,
  url: URL,
  init: SignedInit = {},
): Promise<Response> {
  const method = init.method ?? 'GET'
  const query: Record<string, string> = {}
  for (const [k, v] of url.searchParams) query[k] = v
  const target = new URL(url)
  target.search = Object.entries(query)
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join('&')
  const body = init.body ?? ''
  const headers: Record<string, string> = { ...init.headers }
  const credentials = flags.account === undefined ? await resolveCredentials(flags) : undefined
  const named = flags.account ?? (credentials ? undefined : process.env.AWS_ACCESS_KEY_ID)
  if (named !== undefined) headers.authorization = namingOnly(named, regionOf(flags))
  else if (credentials) {
    const signer = new SignatureV4({
      credentials,
      region: regionOf(flags),
      service: init.service ?? 'events',
      sha256: Sha256,
      uriEscapePath: true,
      applyChecksum: true,
    })
    const signed = await signer.sign({
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port === '' ? {} : { port: Number(target.port) }),
      path: target.pathname,
      query,
      headers: { ...headers, host: target.host },
      body,
    })
    Object.assign(headers, signed.headers)
    // fetch sets Host itself, from the URL: the same value.
    delete headers.host
  }
  try {
    return await fetch(target, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body }),
      ...(init.signal ? { signal: init.signal } : {}),
    })
  } catch (e) {
    if (init.signal?.aborted) throw e
    const why = e instanceof Error ? (e.cause instanceof Error ? e.cause : e).message : String(e)
    throw new Error(`cannot reach ${target.origin}: ${why}`, { cause: e })
  }
}

/** An Authorization header that names a key or account and signs nothing (`--auth off`). */
function namingOnly(key: string, region: string): string {
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '')
  return `AWS4-HMAC-SHA256 Credential=${key}/${date}/${region}/events/aws4_request, SignedHeaders=host, Signature=unsigned`
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

type SourceData = string | ArrayBuffer | ArrayBufferView
type Digest = { update(data: Buffer): unknown; digest(): Buffer }

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

/** The hash the signer needs (SHA-256, or HMAC-SHA256 with a key), over node:crypto. */
class Sha256 {
  private hash: Digest

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh()
  }

  private fresh(): Digest {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', bytes(this.secret))
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data))
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()))
  }

  reset(): void {
    this.hash = this.fresh()
  }
}

/**
 * An error answer as one line: `Code: message`. The code is `__type` (JSON 1.1) or the
 * `x-amzn-ErrorType` header (REST-JSON, where the message may also be `Message`).
 */
export async function errorText(res: Response): Promise<string> {
  const text = await res.text()
  try {
    const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string }
    const code = parsed.__type ?? res.headers.get('x-amzn-errortype') ?? 'Error'
    return `${code}: ${parsed.message ?? parsed.Message ?? ''}`
  } catch {
    return text
  }
}

/** Calls an EventBridge operation; its output, or throws with the error line. */
export async function callEvents(
  flags: ClientFlags,
  operation: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await signedFetch(flags, new URL('/', endpointOf(flags)), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${operation}`,
    },
    body: JSON.stringify(input),
  })
  if (!res.ok) throw new Error(await errorText(res))
  return (await res.json()) as Record<string, unknown>
}
