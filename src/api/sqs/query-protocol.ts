/**
 * @module
 * The SQS query protocol: form-encoded parameters (`Action=SendMessage&MessageAttribute.1.Name=…`)
 * in, XML out. Parameters are read into the operation's JSON shape and outputs written from it,
 * so the handlers never see the protocol.
 */
import { QueueError } from '../../queue/errors.js'
import type { MapShape, Shape, StructShape } from './shapes.js'

export const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/'

/** Query parameters as a tree of their dotted names: `A.1.Name` → {A: {1: {Name: …}}}. */
type Node = { value?: string; children: Map<string, Node> }

function treeOf(params: URLSearchParams): Node {
  const root: Node = { children: new Map() }
  for (const [key, value] of params) {
    let node = root
    for (const part of key.split('.')) {
      let next = node.children.get(part)
      if (!next) {
        next = { children: new Map() }
        node.children.set(part, next)
      }
      node = next
    }
    node.value = value
  }
  return root
}

/** Reads an operation's parameters into its JSON shape. */
export function readQuery(params: URLSearchParams, shape: StructShape): Record<string, unknown> {
  return readStruct(treeOf(params), shape)
}

function readStruct(node: Node, shape: StructShape): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [member, s] of Object.entries(shape.members)) {
    const child = node.children.get(typeof s === 'object' && s.kind !== 'struct' ? s.name : member)
    if (!child) continue
    const v = read(child, s, member)
    if (v !== undefined) out[member] = v
  }
  return out
}

function read(node: Node, shape: Shape, name: string): unknown {
  if (typeof shape === 'string') {
    const text = node.value
    if (text === undefined) return undefined
    if (shape === 'string') return text
    if (shape === 'boolean') return text === 'true'
    if (!/^-?\d+$/.test(text.trim()))
      throw new QueueError(
        'InvalidParameterValue',
        `Value ${text} for parameter ${name} is invalid. Reason: Must be an integer.`,
      )
    return Number(text)
  }
  if (shape.kind === 'struct') return readStruct(node, shape)
  const items = numbered(node)
  if (shape.kind === 'list') return items.map((n) => read(n, shape.member, name))
  return readMap(items, shape)
}

function readMap(items: Node[], shape: MapShape): Record<string, unknown> {
  // Keys are caller-chosen: `__proto__` must be a key like any other.
  const out = Object.create(null) as Record<string, unknown>
  for (const item of items) {
    const key = item.children.get(shape.key)?.value
    const value = item.children.get(shape.value)
    if (key === undefined || !value) continue
    const v = read(value, shape.of, key)
    if (v !== undefined) out[key] = v
  }
  return out
}

/** The children numbered 1, 2, … in order (gaps are skipped, as SQS does). */
function numbered(node: Node): Node[] {
  return [...node.children.entries()]
    .filter(([k]) => /^\d+$/.test(k))
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, n]) => n)
}

/** The XML response of an operation: its result (if it has one) and the request id. */
export function writeResponse(
  action: string,
  requestId: string,
  output: Record<string, unknown> | undefined,
  shape: StructShape | undefined,
): string {
  const result =
    shape && output ? `<${action}Result>${writeStruct(output, shape)}</${action}Result>` : ''
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${XMLNS}">${result}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  )
}

export function writeError(
  requestId: string,
  error: { senderFault: boolean; code: string; message: string },
): string {
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error>` +
    `<Type>${error.senderFault ? 'Sender' : 'Receiver'}</Type><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message><Detail/></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  )
}

function writeStruct(value: Record<string, unknown>, shape: StructShape): string {
  let out = ''
  for (const [member, s] of Object.entries(shape.members)) {
    const v = value[member]
    if (v === undefined || v === null) continue
    if (typeof s === 'string' || s.kind === 'struct') {
      out += `<${member}>${write(v, s)}</${member}>`
      continue
    }
    if (s.kind === 'list') {
      for (const item of v as unknown[]) out += `<${s.name}>${write(item, s.member)}</${s.name}>`
      continue
    }
    for (const [k, item] of Object.entries(v as Record<string, unknown>))
      out += `<${s.name}><${s.key}>${escapeXml(k)}</${s.key}><${s.value}>${write(item, s.of)}</${s.value}></${s.name}>`
  }
  return out
}

function write(value: unknown, shape: Shape): string {
  if (typeof shape === 'string')
    return escapeXml(typeof value === 'string' ? value : JSON.stringify(value))
  if (shape.kind === 'struct') return writeStruct(value as Record<string, unknown>, shape)
  throw new Error('nested flattened collections do not occur in SQS outputs')
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A parser turns a raw \r (and \r\n) into \n: SQS escapes it so the body arrives unchanged.
  '\r': '&#xD;',
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!)
}
