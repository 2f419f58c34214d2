/**
 * @module
 * Signature Version 4 verification, as AWS services check requests: the canonical request is
 * rebuilt from what arrived (the signed headers only, the path encoded twice as for every
 * service but S3, the query sorted), the payload hash is computed here from the body (a client's
 * `x-amz-content-sha256` is compared with it, never trusted), and the signature is compared in
 * constant time. Covers the `Authorization` header and presigned query strings
 * (`X-Amz-Signature`, the query protocol's GET requests).
 *
 * Source: AWS's "Create a signed AWS API request" (SigV4) guide; the byte-exact captures of the
 * AWS CLI, boto3 and the JS SDK in `../shared/reference/wire-captures.md` §4 are its tests.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** Longest difference between the request's time and ours (AWS: 15 minutes). */
export const MAX_SKEW_MS = 15 * 60_000

export type SignedRequest = {
  method: string
  /** The request target as sent: path and query string. */
  url: string
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** Why a request is refused; each protocol turns it into its own code (see `auth/caller.ts`). */
export type SignatureProblem =
  'missing' | 'incomplete' | 'unknown-key' | 'mismatch' | 'expired' | 'url-expired' | 'unsupported'

export type Verified = { ok: true; accessKeyId: string; region: string; service: string }
export type Refused = { ok: false; problem: SignatureProblem; message: string }

/** The secret of an access key, or undefined for a key nobody has. */
export type SecretOf = (accessKeyId: string) => string | undefined

type Parts = {
  accessKeyId: string
  date: string
  region: string
  service: string
  signedHeaders: string[]
  signature: string
  amzDate: string
  /** Presigned: seconds the URL is valid for. */
  expires?: number
  presigned: boolean
}

const AMZ_DATE = /^(\d{8})T\d{6}Z$/

export function verifySigV4(
  req: SignedRequest,
  secretOf: SecretOf,
  now: number,
  expectedService: string,
): Verified | Refused {
  const [path, query] = splitUrl(req.url)
  const params = parseQuery(query)
  const parsed = readParts(req, params)
  if ('ok' in parsed) return parsed
  const p = parsed
  if (p.service !== expectedService)
    return refuse(
      'mismatch',
      `Credential should be scoped to correct service: '${expectedService}'.`,
    )
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(p.region))
    return refuse('mismatch', 'Credential should be scoped to a valid region.')
  const dateMatch = AMZ_DATE.exec(p.amzDate)
  if (!dateMatch)
    return refuse('incomplete', `Date must be in ISO-8601 'basic format'. Got '${p.amzDate}'.`)
  if (dateMatch[1] !== p.date)
    return refuse(
      'mismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${p.date}' != '${dateMatch[1]!}', from '${p.amzDate}'.`,
    )
  const signedAt = parseAmzDate(p.amzDate)
  if (p.presigned) {
    if (
      p.expires === undefined ||
      now > signedAt + p.expires * 1000 ||
      now < signedAt - MAX_SKEW_MS
    )
      return refuse('url-expired', 'Request has expired.')
  } else if (now - signedAt > MAX_SKEW_MS)
    return refuse(
      'expired',
      `Signature expired: ${p.amzDate} is now earlier than ${amzDate(now - MAX_SKEW_MS)} (${amzDate(now)} - 15 min.)`,
    )
  else if (signedAt - now > MAX_SKEW_MS)
    return refuse(
      'expired',
      `Signature not yet current: ${p.amzDate} is still later than ${amzDate(now + MAX_SKEW_MS)} (${amzDate(now)} + 15 min.)`,
    )
  const secret = secretOf(p.accessKeyId)
  if (secret === undefined)
    return refuse('unknown-key', 'The security token included in the request is invalid.')

  const payloadHash = createHash('sha256').update(req.body).digest('hex')
  const claimed = header(req.headers, 'x-amz-content-sha256')
  if (claimed !== undefined && claimed !== payloadHash && claimed !== 'UNSIGNED-PAYLOAD')
    return refuse(
      'mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
  if (!p.signedHeaders.includes('host'))
    return refuse('incomplete', "'Host' must be a 'SignedHeader' in the AWS Authorization.")
  const canonicalHeaders: string[] = []
  for (const name of p.signedHeaders) {
    const value = header(req.headers, name)
    if (value === undefined) return mismatch()
    canonicalHeaders.push(`${name}:${value.trim().replace(/\s+/g, ' ')}\n`)
  }
  const canonical = [
    req.method,
    canonicalPath(path),
    canonicalQuery(p.presigned ? params.filter(([k]) => k !== 'X-Amz-Signature') : params),
    canonicalHeaders.join(''),
    p.signedHeaders.join(';'),
    claimed === 'UNSIGNED-PAYLOAD' ? claimed : payloadHash,
  ].join('\n')
  const scope = `${p.date}/${p.region}/${p.service}/aws4_request`
  const toSign = `AWS4-HMAC-SHA256\n${p.amzDate}\n${scope}\n${sha256Hex(canonical)}`
  const expected = createHmac('sha256', signingKey(secret, p.date, p.region, p.service))
    .update(toSign)
    .digest()
  const given = Buffer.from(p.signature, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return mismatch()
  return { ok: true, accessKeyId: p.accessKeyId, region: p.region, service: p.service }
}

function mismatch(): Refused {
  return refuse(
    'mismatch',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  )
}

function refuse(problem: SignatureProblem, message: string): Refused {
  return { ok: false, problem, message }
}

/** The signature's parts, from the Authorization header or a presigned query string. */
function readParts(req: SignedRequest, params: [string, string][]): Parts | Refused {
  const auth = header(req.headers, 'authorization')
  if (auth !== undefined) {
    const space = auth.indexOf(' ')
    const algorithm = space < 0 ? auth : auth.slice(0, space)
    if (algorithm === 'AWS4-ECDSA-P256-SHA256')
      return refuse(
        'unsupported',
        'Signature Version 4A is not supported here: sign requests with AWS4-HMAC-SHA256.',
      )
    if (algorithm !== 'AWS4-HMAC-SHA256')
      return refuse('incomplete', `Unsupported AWS 'algorithm': '${algorithm}'.`)
    const fields = new Map<string, string>()
    for (const part of auth.slice(space + 1).split(',')) {
      const eq = part.indexOf('=')
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
    }
    const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields.has(k))
    if (missing.length > 0)
      return refuse(
        'incomplete',
        `Authorization header requires ${missing.map((k) => `'${k}'`).join(', ')} parameter${missing.length > 1 ? 's' : ''}. Authorization=${algorithm}`,
      )
    const amzDate = header(req.headers, 'x-amz-date')
    if (amzDate === undefined)
      return refuse(
        'incomplete',
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      )
    return withCredential(
      fields.get('Credential')!,
      fields.get('SignedHeaders')!,
      fields.get('Signature')!,
      amzDate,
      false,
    )
  }
  const q = new Map(params)
  if (!q.has('X-Amz-Algorithm') && !q.has('X-Amz-Signature'))
    return refuse('missing', 'Missing Authentication Token')
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
    return refuse('incomplete', "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'.")
  for (const k of [
    'X-Amz-Credential',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
    'X-Amz-Date',
    'X-Amz-Expires',
  ])
    if (!q.has(k))
      return refuse('incomplete', `Query-string authentication requires the ${k} parameter.`)
  const expires = Number(q.get('X-Amz-Expires'))
  const parts = withCredential(
    q.get('X-Amz-Credential')!,
    q.get('X-Amz-SignedHeaders')!,
    q.get('X-Amz-Signature')!,
    q.get('X-Amz-Date')!,
    true,
  )
  if ('ok' in parts) return parts
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800)
    return refuse('incomplete', 'X-Amz-Expires must be an integer from 1 to 604800.')
  return { ...parts, expires }
}

function withCredential(
  credential: string,
  signedHeaders: string,
  signature: string,
  amzDate: string,
  presigned: boolean,
): Parts | Refused {
  const c = credential.split('/')
  if (c.length !== 5 || c[4] !== 'aws4_request' || c.some((x) => x === ''))
    return refuse(
      'incomplete',
      'Credential must have the form <access key>/<date>/<region>/<service>/aws4_request.',
    )
  if (!/^[0-9a-f]{64}$/.test(signature)) return mismatch()
  return {
    accessKeyId: c[0]!,
    date: c[1]!,
    region: c[2]!,
    service: c[3]!,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()),
    signature,
    amzDate,
    presigned,
  }
}

function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

function splitUrl(url: string): [string, string] {
  const q = url.indexOf('?')
  return q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)]
}

/** The query's pairs, decoded (a `+` stays a plus: SigV4 clients encode spaces as %20). */
function parseQuery(query: string): [string, string][] {
  const out: [string, string][] = []
  if (query === '') return out
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const k = eq < 0 ? pair : pair.slice(0, eq)
    const v = eq < 0 ? '' : pair.slice(eq + 1)
    out.push([safeDecode(k), safeDecode(v)])
  }
  return out
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded (UTF-8). */
function encode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function canonicalQuery(params: [string, string][]): string {
  return params
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/**
 * The path as the SDKs sign it for every service but S3: `.` and `..` segments resolved, empty
 * segments dropped, then each segment of the path as sent encoded again (`%3A` → `%253A`).
 */
function canonicalPath(path: string): string {
  const segments: string[] = []
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue
    if (s === '..') segments.pop()
    else segments.push(s)
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : ''
  return `/${segments.map(encode).join('/')}${trailing}`
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex')
}

/** Signing keys by secret and scope: one derivation (four HMACs) per key and day, not per request. */
const keys = new Map<string, Buffer>()

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\u0000${date}\u0000${region}\u0000${service}`
  let key = keys.get(id)
  if (!key) {
    const hmac = (k: Buffer | string, data: string) => createHmac('sha256', k).update(data).digest()
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request')
    if (keys.size >= 1024) keys.clear()
    keys.set(id, key)
  }
  return key
}

function parseAmzDate(s: string): number {
  return Date.UTC(
    Number(s.slice(0, 4)),
    Number(s.slice(4, 6)) - 1,
    Number(s.slice(6, 8)),
    Number(s.slice(9, 11)),
    Number(s.slice(11, 13)),
    Number(s.slice(13, 15)),
  )
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
