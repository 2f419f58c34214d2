/**
 * @module
 * Message attribute rules (SendMessage's MessageAttributes and MessageSystemAttributes), with
 * SQS's wording, and which attributes a ReceiveMessage asked for.
 */
import { invalidParameter, QueueError } from './errors.js'
import { hasInvalidCharacters } from './message-rules.js'
import type { MessageAttributeValue } from './model.js'

const MAX_ATTRIBUTES = 10
const NAME = /^[A-Za-z0-9_.-]{1,256}$/
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

export function checkMessageAttributes(attributes: Record<string, MessageAttributeValue>): void {
  const names = Object.keys(attributes)
  if (names.length > MAX_ATTRIBUTES)
    throw invalidParameter(
      `Number of message attributes [${String(names.length)}] exceeds the allowed maximum [${String(MAX_ATTRIBUTES)}].`,
    )
  for (const name of names) {
    const a = attributes[name]!
    if (
      !NAME.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      /^(aws|amazon)\./i.test(name)
    )
      throw invalidParameter(`Message (user) attribute name '${name}' is invalid.`)
    if (!a.dataType)
      throw invalidParameter(
        `The message attribute '${name}' must contain a non-empty message attribute type.`,
      )
    const base = a.dataType.split('.')[0]
    if (base !== 'String' && base !== 'Number' && base !== 'Binary')
      throw invalidParameter(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      )
    const value = base === 'Binary' ? a.binaryValue : a.stringValue
    if (value === undefined || value === '')
      throw invalidParameter(
        `Message (user) attribute '${name}' must contain a non-empty value of type '${base}'.`,
      )
    // Values travel in XML to query-protocol receivers: the body's character rule applies.
    if (base !== 'Binary' && hasInvalidCharacters(value))
      throw new QueueError(
        'InvalidMessageContents',
        `Invalid characters found in the value of message (user) attribute '${name}'. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
      )
    if (base === 'Number' && !NUMBER.test(value))
      throw invalidParameter(`Could not cast message attribute '${name}' value to number.`)
  }
}

/** The attributes a receiver asked for: `All`, `*` or `.*`, exact names, or `prefix.*`. */
export function selectAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
  wanted: string[],
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || wanted.length === 0) return undefined
  const out = Object.create(null) as Record<string, MessageAttributeValue>
  for (const [name, value] of Object.entries(attributes)) {
    const chosen = wanted.some(
      (w) =>
        w === 'All' ||
        w === '*' ||
        w === '.*' ||
        w === name ||
        (w.endsWith('.*') && name.startsWith(w.slice(0, -2))),
    )
    if (chosen) out[name] = value
  }
  return Object.keys(out).length > 0 ? out : undefined
}
