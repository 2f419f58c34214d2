/**
 * @module
 * What SendMessage checks in a body, and the size SQS counts against MaximumMessageSize.
 */
import { QueueError } from './errors.js'
import type { MessageAttributeValue } from './model.js'

/** SQS accepts #x9 #xA #xD, #x20–#xD7FF, #xE000–#xFFFD and #x10000–#x10FFFF. */
const INVALID_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

export const hasInvalidCharacters = (text: string) => INVALID_CHARS.test(text)

export function checkBody(body: string): void {
  if (body.length === 0)
    throw new QueueError('MissingParameter', 'The request must contain the parameter MessageBody.')
  if (INVALID_CHARS.test(body))
    throw new QueueError(
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    )
}

/** The body and every attribute's name, type and value, in bytes. */
export function messageSize(
  body: string,
  attributes: Record<string, MessageAttributeValue> | undefined,
): number {
  let size = Buffer.byteLength(body, 'utf8')
  for (const [name, a] of Object.entries(attributes ?? {})) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(a.dataType, 'utf8')
    if (a.binaryValue !== undefined) size += Buffer.from(a.binaryValue, 'base64').length
    else size += Buffer.byteLength(a.stringValue ?? '', 'utf8')
  }
  return size
}
