/**
 * Pulls out of an event only the leaf values at paths some rule uses.
 *
 * Paths are dotted (`detail.state`), and a dotted event key counts the same as nesting: both
 * `{"state.status": 1}` and `{"state": {"status": 1}}` have a leaf at `state.status`. Arrays are
 * transparent to paths; each leaf remembers which element of which array it came from (its
 * trail) so that the matcher can refuse to combine fields from different elements of one array.
 *
 * On JSON text the scanner never builds objects for members no rule uses: it skips them by
 * scanning to the matching bracket, which is what makes matching cheaper than `JSON.parse`.
 * Text events must be valid JSON (the bus parses every event once at ingest); a malformed tail
 * that the scanner skips is not diagnosed.
 */

import type { IpAddress } from './ip.js'
import { comparableNumber } from './numbers.js'

export const LeafKind = { String: 0, Number: 1, True: 2, False: 3, Null: 4 } as const
export type LeafKind = (typeof LeafKind)[keyof typeof LeafKind]

/**
 * A trail is a flat list of (array id, element index) pairs from the outermost array in, for
 * each array element that is an object or an array on the way to the leaf (a plain value that
 * is itself an array element adds nothing). `null` when there is none: such a leaf is
 * consistent with every other leaf.
 */
export type Trail = readonly number[] | null

export type Leaf = {
  readonly kind: LeafKind
  /** The string value, or the number's source text. */
  readonly text: string
  readonly num: number
  readonly trail: Trail
  /** The string read as an IP address, worked out once on first use. */
  ip?: IpAddress | null
}

/** One node of the used-path trie; `pathId` is -1 where the node is only a prefix. */
export type PathNode = { pathId: number; children: Map<string, PathNode> | null }

/** The leaves of one event, by path id. Reused from event to event by one matcher. */
export class EventFields {
  lists: Leaf[][] = []
  private touched: number[] = []
  arrays = 0

  reset(pathCount: number): void {
    for (const id of this.touched) this.lists[id]!.length = 0
    this.touched.length = 0
    while (this.lists.length < pathCount) this.lists.push([])
    this.arrays = 0
  }

  add(pathId: number, leaf: Leaf): void {
    const list = this.lists[pathId]!
    if (list.length === 0) this.touched.push(pathId)
    list.push(leaf)
  }

  get(pathId: number): Leaf[] {
    return this.lists[pathId] ?? []
  }
}

function extend(trail: Trail, arrayId: number, index: number): Trail {
  return trail === null ? [arrayId, index] : [...trail, arrayId, index]
}

export function childOf(node: PathNode, key: string): PathNode | undefined {
  const children = node.children
  if (children === null) return undefined
  if (key.indexOf('.') < 0) return children.get(key)
  // a dotted key is the same path as the nesting it spells
  let at: PathNode | undefined = node
  for (const segment of key.split('.')) {
    at = at.children?.get(segment)
    if (at === undefined) return undefined
  }
  return at
}

// ---------------------------------------------------------------------------------------------
// Parsed events

export function flattenValue(value: unknown, node: PathNode, out: EventFields, trail: Trail): void {
  if (Array.isArray(value)) {
    const arrayId = out.arrays++
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i]
      // only object and array elements are told apart; plain values of one array combine freely
      const inner =
        element !== null && typeof element === 'object' ? extend(trail, arrayId, i) : trail
      flattenValue(element, node, out, inner)
    }
    return
  }
  if (value !== null && typeof value === 'object') {
    if (node.children === null) return
    for (const key of Object.keys(value)) {
      const child = childOf(node, key)
      if (child !== undefined)
        flattenValue((value as Record<string, unknown>)[key], child, out, trail)
    }
    return
  }
  if (node.pathId < 0) return
  switch (typeof value) {
    case 'string':
      out.add(node.pathId, { kind: LeafKind.String, text: value, num: NaN, trail })
      return
    case 'number':
      out.add(node.pathId, { kind: LeafKind.Number, text: String(value), num: value, trail })
      return
    case 'boolean':
      out.add(node.pathId, {
        kind: value ? LeafKind.True : LeafKind.False,
        text: '',
        num: NaN,
        trail,
      })
      return
    default:
      if (value === null) out.add(node.pathId, { kind: LeafKind.Null, text: '', num: NaN, trail })
  }
}

// ---------------------------------------------------------------------------------------------
// JSON text

/** Scans event text from its root object. Throws `SyntaxError` on text that is not an object. */
export function flattenText(text: string, root: PathNode, out: EventFields): void {
  const scanner = new TextScanner(text, out)
  const start = scanner.space(0)
  if (text.charCodeAt(start) !== 123) throw new SyntaxError('Event is not a JSON object')
  scanner.object(start, root, null)
}

/** Everything up to the next bracket or brace, strings included whole. */
const GAP = /[^"[\]{}]*(?:"(?:[^"\\]|\\.)*"[^"[\]{}]*)*/y
/** A number or literal. */
const SCALAR = /[-+.\w]*/y

class TextScanner {
  constructor(
    private readonly s: string,
    private readonly out: EventFields,
  ) {}

  space(i: number): number {
    const s = this.s
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 32 || c === 10 || c === 13 || c === 9) i++
      else return i
    }
  }

  /** `i` is at `{`; returns the offset after the matching `}`. */
  object(i: number, node: PathNode, trail: Trail): number {
    const s = this.s
    i = this.space(i + 1)
    if (s.charCodeAt(i) === 125) return i + 1
    for (;;) {
      if (s.charCodeAt(i) !== 34) throw this.error(i)
      const close = this.stringEnd(i)
      const raw = s.slice(i + 1, close)
      const key = raw.indexOf('\\') < 0 ? raw : (JSON.parse(s.slice(i, close + 1)) as string)
      i = this.space(close + 1)
      if (s.charCodeAt(i) !== 58) throw this.error(i)
      i = this.space(i + 1)
      const child = childOf(node, key)
      i = child === undefined ? this.skip(i) : this.value(i, child, trail)
      i = this.space(i)
      const c = s.charCodeAt(i)
      if (c === 125) return i + 1
      if (c !== 44) throw this.error(i)
      i = this.space(i + 1)
    }
  }

  private array(i: number, node: PathNode, trail: Trail): number {
    const s = this.s
    const arrayId = this.out.arrays++
    i = this.space(i + 1)
    if (s.charCodeAt(i) === 93) return i + 1
    for (let index = 0; ; index++) {
      const open = s.charCodeAt(i)
      const inner = open === 123 || open === 91 ? extend(trail, arrayId, index) : trail
      i = this.space(this.value(i, node, inner))
      const c = s.charCodeAt(i)
      if (c === 93) return i + 1
      if (c !== 44) throw this.error(i)
      i = this.space(i + 1)
    }
  }

  private value(i: number, node: PathNode, trail: Trail): number {
    const s = this.s
    const c = s.charCodeAt(i)
    if (c === 123) return node.children === null ? this.skip(i) : this.object(i, node, trail)
    if (c === 91) return this.array(i, node, trail)
    const id = node.pathId
    if (c === 34) {
      const close = this.stringEnd(i)
      if (id >= 0) {
        const raw = s.slice(i + 1, close)
        const str = raw.indexOf('\\') < 0 ? raw : (JSON.parse(s.slice(i, close + 1)) as string)
        this.out.add(id, { kind: LeafKind.String, text: str, num: NaN, trail })
      }
      return close + 1
    }
    if (c === 116) return this.literal(i, 'true', LeafKind.True, id, trail)
    if (c === 102) return this.literal(i, 'false', LeafKind.False, id, trail)
    if (c === 110) return this.literal(i, 'null', LeafKind.Null, id, trail)
    let end = i + 1
    for (;;) {
      const d = s.charCodeAt(end)
      // digits, sign, point and exponent are all that a JSON number holds
      if ((d >= 48 && d <= 57) || d === 46 || d === 45 || d === 43 || d === 101 || d === 69) end++
      else break
    }
    if (id >= 0) {
      const numText = s.slice(i, end)
      // a number that does not survive conversion to a double is compared by its text only
      const num = comparableNumber(numText) ?? NaN
      if (Number.isNaN(Number(numText))) throw this.error(i)
      this.out.add(id, { kind: LeafKind.Number, text: numText, num, trail })
    }
    return end
  }

  private literal(i: number, word: string, kind: LeafKind, id: number, trail: Trail): number {
    if (!this.s.startsWith(word, i)) throw this.error(i)
    if (id >= 0) this.out.add(id, { kind, text: '', num: NaN, trail })
    return i + word.length
  }

  /** Skips one value starting at `i`, building nothing. */
  skip(i: number): number {
    const s = this.s
    const c = s.charCodeAt(i)
    if (c === 34) return this.stringEnd(i) + 1
    if (c !== 123 && c !== 91) {
      SCALAR.lastIndex = i
      SCALAR.test(s)
      if (SCALAR.lastIndex === i) throw this.error(i)
      return SCALAR.lastIndex
    }
    // jump from bracket to bracket; the regular expression steps over whole strings at once
    let depth = 1
    i++
    for (;;) {
      GAP.lastIndex = i
      GAP.test(s)
      i = GAP.lastIndex
      const d = s.charCodeAt(i)
      if (d === 123 || d === 91) depth++
      else if (d === 125 || d === 93) {
        if (--depth === 0) return i + 1
      } else throw this.error(i)
      i++
    }
  }

  /** `i` is at an opening quote; returns the offset of the closing one. */
  private stringEnd(i: number): number {
    const s = this.s
    let at = i + 1
    for (;;) {
      const q = s.indexOf('"', at)
      if (q < 0) throw this.error(i)
      // a quote preceded by an odd number of backslashes is escaped
      let slashes = 0
      while (s.charCodeAt(q - 1 - slashes) === 92) slashes++
      if ((slashes & 1) === 0) return q
      at = q + 1
    }
  }

  private error(i: number): SyntaxError {
    return new SyntaxError(`Event is not valid JSON at position ${i}`)
  }
}
