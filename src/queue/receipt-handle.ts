/**
 * @module
 * Receipt handles: opaque to clients, they name the queue, the message and the receive that
 * produced them (a new token per receive), so a handle from an older receive can be told apart.
 */

export type ParsedHandle = { queueId: string; messageId: string; token: string }

export const makeHandle = (queueId: string, messageId: string, token: string) =>
  Buffer.from(`${queueId} ${messageId} ${token}`, 'utf8').toString('base64')

export function parseHandle(handle: string): ParsedHandle | undefined {
  if (!/^[A-Za-z0-9+/=]+$/.test(handle)) return undefined
  const parts = Buffer.from(handle, 'base64').toString('utf8').split(' ')
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined
  return { queueId: parts[0]!, messageId: parts[1]!, token: parts[2]! }
}
