/**
 * All the rules of one bus compiled into one automaton.
 *
 * Matching walks from the root state: at each state, for each field path it has transitions on,
 * the event's values at that path pick the edges to follow (by hash lookups, see FieldIndex).
 * The cost depends on the fields the event has and the states it reaches, not on the number of
 * rules. Each rule branch is a path of edges in the tree of states; field tests are ordered by
 * path so rules with common tests share the states before they diverge.
 *
 * Concurrency: JavaScript runs `matches` to completion before any `add` or `remove` can run, so
 * a reader never sees a half-applied update. The per-event scratch space (`EventFields`) belongs
 * to this object; `matches` is not re-entrant and the set must not be shared across workers.
 */
import type { Branch, CompiledPattern, Condition } from './ast.js'
import type { Edge, FieldIndex } from './field-index.js'
import {
  EventFields,
  flattenText,
  flattenValue,
  type Leaf,
  type PathNode,
  type Trail,
} from './flatten.js'
import { State } from './state.js'

type BranchRecord = { readonly steps: readonly Step[]; readonly terminal: State }
type Step = {
  readonly state: State
  readonly path: string
  readonly pathId: number
  readonly edge: Edge
}
type PathUse = { readonly id: number; readonly path: string; refs: number }

export class RuleSet {
  private readonly root = new State()
  private readonly rules = new Map<string, BranchRecord[]>()
  private readonly paths = new Map<string, PathUse>()
  private readonly freeIds: number[] = []
  private nextPathId = 0
  private trie: PathNode | null = null
  private readonly fields = new EventFields()
  private generation = 0
  private readonly scratch: Edge[][] = []

  get size(): number {
    return this.rules.size
  }

  has(ruleId: string): boolean {
    return this.rules.has(ruleId)
  }

  /** Adds a rule, replacing any rule with the same id. */
  add(ruleId: string, pattern: CompiledPattern): void {
    this.remove(ruleId)
    this.rules.set(
      ruleId,
      pattern.branches.map((b) => this.addBranch(ruleId, b)),
    )
  }

  remove(ruleId: string): boolean {
    const records = this.rules.get(ruleId)
    if (records === undefined) return false
    this.rules.delete(ruleId)
    for (const record of records) this.removeBranch(ruleId, record)
    return true
  }

  /** Ids of the rules matching the event, given as JSON text or as a parsed object. */
  matches(event: string | object): string[] {
    const trie = this.pathTrie()
    const fields = this.fields
    fields.reset(this.nextPathId)
    if (typeof event === 'string') flattenText(event, trie, fields)
    else flattenValue(event, trie, fields, null)
    this.generation++
    const out = new Set<string>()
    this.root.seen = this.generation
    this.visit(this.root, EMPTY, EMPTY_IDS, out, 0)
    return [...out]
  }

  private addBranch(ruleId: string, branch: Branch): BranchRecord {
    let state = this.root
    const steps: Step[] = []
    for (const test of branch) {
      const key = conditionsKey(test.conditions)
      const pathId = this.usePath(test.path)
      const index = state.index(pathId)
      let edge = index.edges.get(key)
      if (edge === undefined) {
        edge = { key, conditions: test.conditions, next: new State(), refs: 0 }
        index.addEdge(edge)
      } else {
        this.releasePath(test.path)
      }
      edge.refs++
      steps.push({ state, path: test.path, pathId, edge })
      state = edge.next
    }
    state.rules.set(ruleId, (state.rules.get(ruleId) ?? 0) + 1)
    return { steps, terminal: state }
  }

  private removeBranch(ruleId: string, record: BranchRecord): void {
    const left = (record.terminal.rules.get(ruleId) ?? 1) - 1
    if (left > 0) record.terminal.rules.set(ruleId, left)
    else record.terminal.rules.delete(ruleId)
    for (let k = record.steps.length - 1; k >= 0; k--) {
      const { state, path, pathId, edge } = record.steps[k]!
      if (--edge.refs > 0) continue
      const index = state.fields.get(pathId)!
      index.removeEdge(edge)
      if (index.size === 0) state.fields.delete(pathId)
      this.releasePath(path)
    }
  }

  private usePath(path: string): number {
    const use = this.paths.get(path)
    if (use !== undefined) {
      use.refs++
      return use.id
    }
    const id = this.freeIds.pop() ?? this.nextPathId++
    this.paths.set(path, { id, path, refs: 1 })
    this.trie = null
    return id
  }

  private releasePath(path: string): void {
    const use = this.paths.get(path)!
    if (--use.refs === 0) this.dropPath(use)
  }

  private dropPath(use: PathUse): void {
    this.paths.delete(use.path)
    this.freeIds.push(use.id)
    this.trie = null
  }

  private pathTrie(): PathNode {
    if (this.trie !== null) return this.trie
    const root: PathNode = { pathId: -1, children: null }
    for (const { path, id } of this.paths.values()) {
      let node = root
      for (const segment of path.split('.')) {
        node.children ??= new Map()
        let child = node.children.get(segment)
        if (child === undefined)
          node.children.set(segment, (child = { pathId: -1, children: null }))
        node = child
      }
      node.pathId = id
    }
    return (this.trie = root)
  }

  /**
   * Explores `state` given the leaves already chosen (only those inside arrays matter for
   * consistency) and the paths that must turn out absent relative to the final choice.
   */
  private visit(
    state: State,
    chosen: readonly Leaf[],
    absent: readonly number[],
    out: Set<string>,
    depth: number,
  ): void {
    if (state.rules.size > 0 && this.absencesHold(absent, chosen)) {
      for (const id of state.rules.keys()) out.add(id)
    }
    for (const [pathId, index] of state.fields) {
      const leaves = this.fields.get(pathId)
      if (leaves.length === 0) {
        for (const e of index.absent) this.follow(e.next, chosen, absent, out, depth)
        continue
      }
      this.followValues(index, leaves, chosen, absent, out, depth)
      if (index.absent.length > 0 && leaves.every((l) => l.trail !== null)) {
        // absence relative to the elements chosen for the other fields, checked at the end
        const pending = [...absent, pathId]
        for (const e of index.absent) this.follow(e.next, chosen, pending, out, depth)
      }
    }
  }

  private followValues(
    index: FieldIndex,
    leaves: readonly Leaf[],
    chosen: readonly Leaf[],
    absent: readonly number[],
    out: Set<string>,
    depth: number,
  ): void {
    const found = (this.scratch[depth] ??= [])
    for (const leaf of leaves) {
      if (!consistentWithAll(leaf.trail, chosen)) continue
      found.length = 0
      index.collect(leaf, found)
      if (found.length === 0) continue
      const nextChosen = leaf.trail === null ? chosen : [...chosen, leaf]
      for (let i = 0; i < found.length; i++) {
        const edge = found[i]!
        if (found.indexOf(edge) < i) continue
        this.follow(edge.next, nextChosen, absent, out, depth + 1)
      }
    }
  }

  private follow(
    next: State,
    chosen: readonly Leaf[],
    absent: readonly number[],
    out: Set<string>,
    depth: number,
  ): void {
    if (chosen.length === 0 && absent.length === 0) {
      // with nothing chosen inside arrays, a state explores the same way every time
      if (next.seen === this.generation) return
      next.seen = this.generation
    }
    this.visit(next, chosen, absent, out, depth + 1)
  }

  private absencesHold(absent: readonly number[], chosen: readonly Leaf[]): boolean {
    for (const pathId of absent) {
      for (const leaf of this.fields.get(pathId)) {
        if (consistentWithAll(leaf.trail, chosen)) return false
      }
    }
    return true
  }
}

const EMPTY: readonly Leaf[] = []
const EMPTY_IDS: readonly number[] = []

/** Two leaves conflict when they sit in different elements of the same array. */
export function consistent(a: Trail, b: Trail): boolean {
  if (a === null || b === null) return true
  const n = Math.min(a.length, b.length)
  for (let k = 0; k < n; k += 2) {
    if (a[k] !== b[k]) return true
    if (a[k + 1] !== b[k + 1]) return false
  }
  return true
}

function consistentWithAll(trail: Trail, chosen: readonly Leaf[]): boolean {
  if (trail === null) return true
  for (const c of chosen) if (!consistent(trail, c.trail)) return false
  return true
}

function conditionsKey(conditions: readonly Condition[]): string {
  return JSON.stringify(conditions, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  )
}
