/**
 * @module
 * Who is calling, and in which region: the account comes from the access key (reference §1.6),
 * the region from the SigV4 credential scope. Signatures are not verified yet; {@link Authenticator}
 * is the seam where verification (and bus policies after it) will plug in.
 */
import type { Scope } from '../model.js'

export type Caller = Scope & { accessKeyId?: string }

export type Authenticator = (headers: Record<string, string | string[] | undefined>) => Caller

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/
const CREDENTIAL_V4A = /Credential=([^/,\s]+)\//
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Reads the caller from the Authorization header; unsigned requests get the defaults. */
export function createAuthenticator(defaults: Scope): Authenticator {
  return (headers) => {
    const auth = headers.authorization
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
