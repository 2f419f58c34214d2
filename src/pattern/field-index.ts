/**
 * The transitions out of one automaton state on one field path.
 *
 * Each edge stands for one exact list of conditions (a pattern's array for this field) and leads
 * to its own next state. Conditions are indexed so that finding the edges a value satisfies does
 * not try every edge: exact values by hash, prefixes and suffixes by hash per length, the rest
 * (numeric ranges, wildcards, cidr, anything-but) in short lists checked one by one.
 */
import type { Condition } from './ast.js'
import { fold } from './case-fold.js'
import { conditionMatches } from './conditions.js'
import { LeafKind, type Leaf } from './flatten.js'
import type { State } from './state.js'

export type Edge = {
  readonly key: string
  readonly conditions: readonly Condition[]
  readonly next: State
  /** How many rule branches run through this edge. */
  refs: number
}

/** Strings of several lengths, looked up by the value's own prefix or suffix of each length. */
class AffixTable {
  private readonly byLength = new Map<number, Map<string, Edge[]>>()

  add(value: string, edge: Edge): void {
    let table = this.byLength.get(value.length)
    if (table === undefined) {
      table = new Map<string, Edge[]>()
      this.byLength.set(value.length, table)
    }
    push(table, value, edge)
  }

  remove(value: string, edge: Edge): void {
    const table = this.byLength.get(value.length)
    if (table === undefined) return
    pull(table, value, edge)
    if (table.size === 0) this.byLength.delete(value.length)
  }

  get empty(): boolean {
    return this.byLength.size === 0
  }

  collect(text: string, suffix: boolean, out: Edge[]): void {
    for (const [length, table] of this.byLength) {
      if (length > text.length) continue
      const piece = suffix ? text.slice(text.length - length) : text.slice(0, length)
      const edges = table.get(piece)
      if (edges !== undefined) for (const e of edges) out.push(e)
    }
  }
}

type Checked = { readonly condition: Condition; readonly edge: Edge }

export class FieldIndex {
  private readonly strings = new Map<string, Edge[]>()
  private readonly numbers = new Map<number, Edge[]>()
  /** Numbers that do not survive conversion to a double, by their text. */
  private readonly numberTexts = new Map<string, Edge[]>()
  private readonly literals = new Map<LeafKind, Edge[]>()
  private readonly folded = new Map<string, Edge[]>()
  private readonly prefixes = new AffixTable()
  private readonly foldedPrefixes = new AffixTable()
  private readonly suffixes = new AffixTable()
  private readonly foldedSuffixes = new AffixTable()
  /** Conditions checked one by one against every value. */
  private checked: Checked[] = []
  /** Edges satisfied by any value (`exists: true`). */
  readonly anyValue: Edge[] = []
  /** Edges satisfied when the field is absent (`exists: false`). */
  readonly absent: Edge[] = []
  readonly edges = new Map<string, Edge>()
  private needsFold = false

  get size(): number {
    return this.edges.size
  }

  addEdge(edge: Edge): void {
    this.edges.set(edge.key, edge)
    for (const c of edge.conditions) this.register(c, edge, true)
  }

  removeEdge(edge: Edge): void {
    this.edges.delete(edge.key)
    for (const c of edge.conditions) this.register(c, edge, false)
    this.needsFold =
      this.folded.size > 0 || !this.foldedPrefixes.empty || !this.foldedSuffixes.empty
  }

  private register(c: Condition, edge: Edge, add: boolean): void {
    function put<K>(map: Map<K, Edge[]>, key: K): void {
      if (add) push(map, key, edge)
      else pull(map, key, edge)
    }
    switch (c.kind) {
      case 'string':
        put(this.strings, c.value)
        return
      case 'number':
        if (Number.isNaN(c.value)) put(this.numberTexts, c.text)
        else put(this.numbers, c.value)
        return
      case 'literal':
        put(
          this.literals,
          c.value === null ? LeafKind.Null : c.value ? LeafKind.True : LeafKind.False,
        )
        return
      case 'equals-ignore-case':
        if (add) this.needsFold = true
        put(this.folded, c.value)
        return
      case 'prefix':
      case 'suffix': {
        const table =
          c.kind === 'prefix'
            ? c.ignoreCase
              ? this.foldedPrefixes
              : this.prefixes
            : c.ignoreCase
              ? this.foldedSuffixes
              : this.suffixes
        if (add && c.ignoreCase) this.needsFold = true
        if (add) table.add(c.value, edge)
        else table.remove(c.value, edge)
        return
      }
      case 'exists': {
        const list = c.value ? this.anyValue : this.absent
        if (add) list.push(edge)
        else list.splice(list.indexOf(edge), 1)
        return
      }
      case 'ip':
        // equal text is found by hash; other spellings of the address by the range check
        put(this.strings, c.value)
        break
      case 'wildcard':
      case 'numeric':
      case 'cidr':
      case 'anything-but':
        break
    }
    if (add) this.checked.push({ condition: c, edge })
    else this.checked = this.checked.filter((k) => !(k.edge === edge && k.condition === c))
  }

  /** Appends to `out` every edge that `leaf` satisfies (an edge may appear more than once). */
  collect(leaf: Leaf, out: Edge[]): void {
    for (const e of this.anyValue) out.push(e)
    switch (leaf.kind) {
      case LeafKind.String: {
        const text = leaf.text
        const exact = this.strings.get(text)
        if (exact !== undefined) for (const e of exact) out.push(e)
        this.prefixes.collect(text, false, out)
        this.suffixes.collect(text, true, out)
        if (this.needsFold) {
          const lower = fold(text)
          const f = this.folded.get(lower)
          if (f !== undefined) for (const e of f) out.push(e)
          this.foldedPrefixes.collect(lower, false, out)
          this.foldedSuffixes.collect(lower, true, out)
        }
        break
      }
      case LeafKind.Number: {
        const exact = Number.isNaN(leaf.num)
          ? this.numberTexts.get(leaf.text)
          : this.numbers.get(leaf.num)
        if (exact !== undefined) for (const e of exact) out.push(e)
        break
      }
      default: {
        const exact = this.literals.get(leaf.kind)
        if (exact !== undefined) for (const e of exact) out.push(e)
      }
    }
    for (const k of this.checked) {
      if (conditionMatches(k.condition, leaf)) out.push(k.edge)
    }
  }
}

function push<K>(map: Map<K, Edge[]>, key: K, edge: Edge): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [edge])
  else if (!list.includes(edge)) list.push(edge)
}

function pull<K>(map: Map<K, Edge[]>, key: K, edge: Edge): void {
  const list = map.get(key)
  if (list === undefined) return
  const at = list.indexOf(edge)
  if (at >= 0) list.splice(at, 1)
  if (list.length === 0) map.delete(key)
}
