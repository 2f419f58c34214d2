/**
 * @module
 * Navigation of JSON text without parsing it: a node is where a value lies in the text, so a
 * target receives the event's own spelling of each value (`300.0`, integers beyond 2^53, string
 * escapes) instead of JavaScript's re-serialization. Containers are indexed the first time a
 * path looks inside them, so a path touches only the objects along its way.
 *
 * The text must be valid JSON, as a stored envelope always is; nothing here validates it.
 */
import type { JsonTree } from './json-path.js'

export type RawNode = {
  readonly start: number
  readonly end: number
  members?: Map<string, RawNode>
  items?: RawNode[]
}

export type RawJson = {
  readonly text: string
  readonly root: RawNode
  readonly tree: JsonTree<RawNode>
  /** The value's text exactly as it appears. */
  readonly slice: (node: RawNode) => string
  readonly isString: (node: RawNode) => boolean
  /** The value of a string node, escapes decoded. */
  readonly decode: (node: RawNode) => string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const LBRACE = 0x7b
const RBRACE = 0x7d
const LBRACKET = 0x5b
const RBRACKET = 0x5d

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  return i
}

/** `i` is at the opening quote; returns the index after the closing one. */
function skipString(text: string, i: number): number {
  let from = i + 1
  for (;;) {
    const close = text.indexOf('"', from)
    if (close < 0) throw new SyntaxError(`Unterminated string at ${i} in JSON text`)
    let slashes = 0
    while (text.charCodeAt(close - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return close + 1
    from = close + 1
  }
}

/** `i` is at the first character of a value; returns the index after its last one. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i)
  if (first === QUOTE) return skipString(text, i)
  if (first === LBRACE || first === LBRACKET) {
    // iterative, so that deeply nested events cannot exhaust the stack
    let depth = 0
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === QUOTE) {
        i = skipString(text, i)
        continue
      }
      if (c === LBRACE || c === LBRACKET) depth++
      else if ((c === RBRACE || c === RBRACKET) && --depth === 0) return i + 1
      i++
    }
    throw new SyntaxError('Unterminated container in JSON text')
  }
  // number, true, false or null
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === COMMA || c === RBRACE || c === RBRACKET || isSpace(c)) break
    i++
  }
  return i
}

function decodeString(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1)
  return inner.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : inner
}

function indexObject(text: string, node: RawNode): Map<string, RawNode> {
  // a repeated key keeps its first position and takes its last value, as JSON.parse does
  const members = new Map<string, RawNode>()
  let i = skipSpace(text, node.start + 1)
  if (text.charCodeAt(i) === RBRACE) return members
  for (;;) {
    const keyEnd = skipString(text, i)
    const key = decodeString(text, i, keyEnd)
    i = skipSpace(text, skipSpace(text, keyEnd) + 1) // past the colon
    const end = skipValue(text, i)
    members.set(key, { start: i, end })
    i = skipSpace(text, end)
    if (text.charCodeAt(i) !== COMMA) return members
    i = skipSpace(text, i + 1)
  }
}

function indexArray(text: string, node: RawNode): RawNode[] {
  const items: RawNode[] = []
  let i = skipSpace(text, node.start + 1)
  if (text.charCodeAt(i) === RBRACKET) return items
  for (;;) {
    const end = skipValue(text, i)
    items.push({ start: i, end })
    i = skipSpace(text, end)
    if (text.charCodeAt(i) !== COMMA) return items
    i = skipSpace(text, i + 1)
  }
}

/** Wraps JSON text for navigation; only the root's extent is found up front. */
export function rawJson(text: string): RawJson {
  const start = skipSpace(text, 0)
  const root: RawNode = { start, end: skipValue(text, start) }
  const kind = (node: RawNode): number => text.charCodeAt(node.start)
  const membersOf = (node: RawNode): Map<string, RawNode> | undefined => {
    if (kind(node) !== LBRACE) return undefined
    node.members ??= indexObject(text, node)
    return node.members
  }
  const itemsOf = (node: RawNode): RawNode[] | undefined => {
    if (kind(node) !== LBRACKET) return undefined
    node.items ??= indexArray(text, node)
    return node.items
  }
  const tree: JsonTree<RawNode> = {
    member: (node, name) => membersOf(node)?.get(name),
    element: (node, index) => itemsOf(node)?.[index],
    children: (node) => itemsOf(node) ?? [...(membersOf(node)?.values() ?? [])],
  }
  return {
    text,
    root,
    tree,
    slice: (node) => text.slice(node.start, node.end),
    isString: (node) => kind(node) === QUOTE,
    decode: (node) => decodeString(text, node.start, node.end),
  }
}
