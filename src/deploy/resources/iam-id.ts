/**
 * @module
 * IAM's unique ids for the recorded IAM resources: a four-letter prefix (`AROA` for roles,
 * `ANPA` for managed policies) and 17 uppercase letters and digits, derived from the account and
 * the name so that the same resource keeps the same id across deploys.
 */
import { createHash } from 'node:crypto'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** @example iamId('AROA', '111111111111', 'role/app') // 'AROA' + 17 characters */
export function iamId(prefix: string, account: string, name: string): string {
  const digest = createHash('sha256').update(`${account}:${name}`).digest()
  let out = prefix
  for (let i = 0; i < 17; i++) out += ALPHABET.charAt(digest[i]! % ALPHABET.length)
  return out
}

/** An IAM path: `/` when absent; else it must start and end with `/`. */
export function iamPath(path: string | undefined): string | undefined {
  if (path === undefined) return '/'
  return /^\/(?:[\u0021-\u007E]*\/)?$/.test(path) ? path : undefined
}
