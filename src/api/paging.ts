/**
 * @module
 * NextToken/Limit paging over a sorted list. Tokens are opaque to clients (base64 of an offset).
 */
import { BusError } from '../errors.js'

export function page<T>(
  items: T[],
  nextToken: string | undefined,
  limit: number | undefined,
): { items: T[]; nextToken?: string } {
  let start = 0
  if (nextToken !== undefined) {
    const n = Number(Buffer.from(nextToken, 'base64url').toString('utf8').replace(/^o:/, ''))
    if (!Number.isInteger(n) || n < 0)
      throw new BusError('ValidationException', 'The NextToken is not valid.')
    start = n
  }
  const size = limit ?? 100
  const slice = items.slice(start, start + size)
  const end = start + slice.length
  return end < items.length
    ? { items: slice, nextToken: Buffer.from(`o:${String(end)}`).toString('base64url') }
    : { items: slice }
}
