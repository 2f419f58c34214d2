/**
 * @module
 * Who is calling, and in which region. With `--auth off` (the default, for local use) the
 * account comes from the access key (reference §1.6) and the region from the SigV4 credential
 * scope, and signatures are not checked. With `--auth sigv4` every request's signature is
 * verified (`sigv4.ts`) against the secrets of a credentials file (`credentials.ts`), and the
 * account is the one that file gives the key.
 */
import type { Scope } from '../model.js'
import type { CredentialsFile } from './credentials.js'
import { verifySigV4, type SignatureProblem, type SignedRequest } from './sigv4.js'

export type Caller = Scope & { accessKeyId?: string; organizationId?: string }

/** A request refused before any operation runs, and why (each protocol words it its own way). */
export type AuthFailure = { problem: SignatureProblem; message: string }

/** The caller of a request (read after its body), or why it is refused. `service`: the signing name. */
export type Authenticator = {
  readonly mode: 'off' | 'sigv4'
  (req: SignedRequest, service: string): Caller | AuthFailure
}

export const isAuthFailure = (c: Caller | AuthFailure): c is AuthFailure => 'problem' in c

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/
const CREDENTIAL_V4A = /Credential=([^/,\s]+)\//
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export function createAuthenticator(
  defaults: Scope,
  sigv4?: { credentials: CredentialsFile; now: () => number },
): Authenticator {
  if (sigv4) {
    const { credentials, now } = sigv4
    const verify = (req: SignedRequest, service: string): Caller | AuthFailure => {
      const r = verifySigV4(
        req,
        (key) => credentials.identity(key)?.secretAccessKey,
        now(),
        service,
      )
      if (!r.ok) return { problem: r.problem, message: r.message }
      const who = credentials.identity(r.accessKeyId)!
      return {
        accessKeyId: r.accessKeyId,
        account: who.account,
        region: r.region,
        ...(who.organizationId === undefined ? {} : { organizationId: who.organizationId }),
      }
    }
    return Object.assign(verify, { mode: 'sigv4' as const })
  }
  const read = (req: SignedRequest): Caller => {
    const auth = req.headers.authorization
    const text = typeof auth === 'string' ? auth : undefined
    if (!text) return { ...defaults }
    const v4 = CREDENTIAL.exec(text)
    if (v4) {
      const key = v4[1]!
      return {
        accessKeyId: key,
        account: accountOfAccessKey(key) ?? defaults.account,
        region: v4[2]!,
      }
    }
    // SigV4a (multi-region endpoints) has no region in its scope.
    const v4a = CREDENTIAL_V4A.exec(text)
    if (v4a) {
      const key = v4a[1]!
      return {
        accessKeyId: key,
        account: accountOfAccessKey(key) ?? defaults.account,
        region: defaults.region,
      }
    }
    return { ...defaults }
  }
  return Object.assign(read, { mode: 'off' as const })
}

/** A refusal in the AWS JSON protocols (EventBridge, SQS JSON, Scheduler): code and status. */
export function jsonAuthError(f: AuthFailure): {
  code:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'UnrecognizedClientException'
    | 'InvalidSignatureException'
  status: number
} {
  switch (f.problem) {
    case 'missing':
      return { code: 'MissingAuthenticationTokenException', status: 403 }
    case 'incomplete':
      return { code: 'IncompleteSignatureException', status: 400 }
    case 'unknown-key':
      return { code: 'UnrecognizedClientException', status: 400 }
    case 'url-expired':
    case 'expired':
    case 'mismatch':
    case 'unsupported':
      return { code: 'InvalidSignatureException', status: 403 }
  }
}

/** The same refusal in the query protocol (SQS's XML): AWS's common error codes. */
export function queryAuthError(f: AuthFailure): { code: string; status: number } {
  switch (f.problem) {
    case 'missing':
      return { code: 'MissingAuthenticationToken', status: 403 }
    case 'incomplete':
      return { code: 'IncompleteSignature', status: 400 }
    case 'unknown-key':
      return { code: 'InvalidClientTokenId', status: 403 }
    case 'url-expired':
      return { code: 'RequestExpired', status: 400 }
    case 'expired':
    case 'mismatch':
    case 'unsupported':
      return { code: 'SignatureDoesNotMatch', status: 403 }
  }
}

/**
 * The account an access key belongs to: a 12-digit key is the account itself (handy in tests:
 * `AWS_ACCESS_KEY_ID=111111111111`); AWS-format keys (AKIA…/ASIA…) carry it encoded in
 * characters 5–13. Anything else: undefined (the default account applies).
 */
export function accountOfAccessKey(key: string): string | undefined {
  if (/^\d{12}$/.test(key)) return key
  if (key.length < 20 || !/^(AKIA|ASIA)/.test(key)) return undefined
  let n = 0n
  for (const ch of key.slice(4, 12)) {
    const v = BASE32.indexOf(ch)
    if (v < 0) return undefined
    n = (n << 5n) | BigInt(v)
  }
  // 8 base32 characters are 40 bits; AWS packs the account into them as below.
  const marker = BASE32.indexOf(key[12]!)
  if (marker < 0) return undefined
  let account = 2n * (n - 549_755_813_888n)
  if (marker >= 16) account += 1n
  if (account < 0n || account > 999_999_999_999n) return undefined
  return account.toString().padStart(12, '0')
}
