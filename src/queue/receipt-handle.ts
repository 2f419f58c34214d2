/**
 * @module
 * Receipt handles: opaque to clients, they name the queue, the message and the receive that
 * produced them (a new token per receive), so a handle from an older receive can be told apart.
 * They also carry the message's seq, its key in the store, so a message that is not in memory
 * is found without a scan; handles made before they carried it are still understood.
 */

export type ParsedHandle = { queueId: string; messageId: string; token: string; seq?: number }

export const makeHandle = (queueId: string, messageId: string, token: string, seq: number) =>
  Buffer.from(`${queueId} ${messageId} ${token} ${String(seq)}`, 'utf8').toString('base64')

export function parseHandle(handle: string): ParsedHandle | undefined {
  if (!/^[A-Za-z0-9+/=]+$/.test(handle)) return undefined
  const parts = Buffer.from(handle, 'base64').toString('utf8').split(' ')
  if (parts.length < 3 || parts.length > 4 || parts.some((p) => p === '')) return undefined
  const parsed: ParsedHandle = { queueId: parts[0]!, messageId: parts[1]!, token: parts[2]! }
  if (parts.length === 4) {
    if (!/^\d{1,15}$/.test(parts[3]!)) return undefined
    parsed.seq = Number(parts[3])
  }
  return parsed
}
