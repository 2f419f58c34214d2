/**
 * @module
 * Signature Version 4 in the browser, with WebCrypto (also global in Node 20, where the tests run
 * it against the server's verifier). Signs what the console sends: POSTs of the AWS JSON
 * protocols and GETs with a query string (`/tail`). The `host` header is signed as the browser
 * will send it (the URL's host); fetch may not set it itself.
 *
 * No imports: this file is shared with the node tests as it is.
 */

export type Credentials = { accessKeyId: string; secretAccessKey: string }

export type RequestToSign = {
  method: string
  url: URL
  /** Header names in lower case; `host` is added from the URL. */
  headers: Record<string, string>
  body: string
  region: string
  service: string
  /** Milliseconds since the epoch. @default Date.now() */
  now?: number
}

const encoder = new TextEncoder()

/** What to send: the address and the headers. */
export type Signed = { url: URL; headers: Record<string, string> }

/**
 * The request to send: its address with the query written as it was signed (`%20` for a space:
 * URLSearchParams would write `+`, which the server reads as a plus), and the given headers plus
 * `x-amz-date`, `x-amz-content-sha256` and `authorization` (not `host`: the browser sets it).
 */
export async function signRequest(
  request: RequestToSign,
  credentials: Credentials,
): Promise<Signed> {
  const amzDate = new Date(request.now ?? Date.now())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const date = amzDate.slice(0, 8)
  const payloadHash = await sha256Hex(request.body)
  const headers: Record<string, string> = {
    ...request.headers,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
  }
  const all: Record<string, string> = { ...headers, host: request.url.host }
  const names = Object.keys(all)
    .map((n) => n.toLowerCase())
    .sort()
  const query = canonicalQuery(request.url.searchParams)
  const url = new URL(request.url)
  url.search = query
  const canonical = [
    request.method,
    canonicalPath(request.url.pathname),
    query,
    names.map((n) => `${n}:${all[n]!.trim().replace(/\s+/g, ' ')}\n`).join(''),
    names.join(';'),
    payloadHash,
  ].join('\n')
  const scope = `${date}/${request.region}/${request.service}/aws4_request`
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${await sha256Hex(canonical)}`
  let key = await hmac(encoder.encode(`AWS4${credentials.secretAccessKey}`), date)
  for (const part of [request.region, request.service, 'aws4_request']) key = await hmac(key, part)
  const signature = hex(await hmac(key, toSign))
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`
  return { url, headers }
}

/** RFC 3986: unreserved characters stay, everything else is percent-encoded. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/** Every service but S3: each segment of the path as sent is encoded once more. */
function canonicalPath(path: string): string {
  const segments = path.split('/').filter((s) => s !== '' && s !== '.')
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : ''
  return `/${segments.map(encode).join('/')}${trailing}`
}

async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)))
}

async function hmac(
  key: ArrayBuffer | Uint8Array<ArrayBuffer>,
  data: string,
): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  return crypto.subtle.sign('HMAC', k, encoder.encode(data))
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('')
}
