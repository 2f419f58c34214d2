/**
 * @module
 * The checksums SQS returns so clients can verify what arrived: MD5 of the body, and MD5 of the
 * message attributes in SQS's length-prefixed encoding (boto3 and the SDKs check both).
 */
import { createHash } from 'node:crypto'
import type { MessageAttributeValue } from './model.js'

export const md5OfBody = (body: string) => createHash('md5').update(body, 'utf8').digest('hex')

/**
 * Each attribute, sorted by name: name, data type, one byte for the transport (1 string or
 * number, 2 binary) and the value, every field but the byte prefixed by its 4-byte length.
 */
export function md5OfAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const hash = createHash('md5')
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    hash.update(length)
    hash.update(bytes)
  }
  for (const name of Object.keys(attributes).sort(byBytes)) {
    const a = attributes[name]!
    field(Buffer.from(name, 'utf8'))
    field(Buffer.from(a.dataType, 'utf8'))
    if (a.binaryValue !== undefined) {
      hash.update(Buffer.from([2]))
      field(Buffer.from(a.binaryValue, 'base64'))
    } else {
      hash.update(Buffer.from([1]))
      field(Buffer.from(a.stringValue ?? '', 'utf8'))
    }
  }
  return hash.digest('hex')
}

/** SQS sorts attribute names by their UTF-8 bytes, not by UTF-16 units. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
