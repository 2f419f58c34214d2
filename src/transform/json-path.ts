/**
 * @module
 * EventBridge's JSONPath subset, shared by InputPath, InputPathsMap and the dynamic parameters of
 * API destinations: `$`, dot notation (`.detail.instance-id`, names may hold `-`, `_`, `/` and
 * other characters that are not JSONPath syntax), array indices `[0]` and the wildcards `.*` and
 * `[*]`. AWS documents dot notation only, so bracketed names, filters, slices, negative indices
 * and `..` are not part of the language.
 */

export type PathStep =
  | { readonly kind: 'member'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' }

export type ParsedPath = {
  readonly steps: readonly PathStep[]
  /** `false` when a wildcard can select several values; the result is then a list. */
  readonly definite: boolean
}

// Everything up to the next step; quotes, `*` and whitespace belong to syntax EventBridge lacks.
const NAME = /[^.[\]*'"\s]+/y
const INDEX = /\[(\d+|\*)\]/y

/** Parses a path, or returns `null` when it is not in EventBridge's subset. */
export function parsePath(path: string): ParsedPath | null {
  if (!path.startsWith('$')) return null
  const steps: PathStep[] = []
  let definite = true
  let i = 1
  while (i < path.length) {
    if (path[i] === '.') {
      if (path[i + 1] === '*') {
        steps.push({ kind: 'wildcard' })
        definite = false
        i += 2
        continue
      }
      NAME.lastIndex = i + 1
      const name = NAME.exec(path)
      if (name === null) return null
      steps.push({ kind: 'member', name: name[0] })
      i = NAME.lastIndex
    } else if (path[i] === '[') {
      INDEX.lastIndex = i
      const index = INDEX.exec(path)
      if (index === null) return null
      if (index[1] === '*') {
        steps.push({ kind: 'wildcard' })
        definite = false
      } else {
        steps.push({ kind: 'index', index: Number(index[1]) })
      }
      i = INDEX.lastIndex
    } else {
      return null
    }
  }
  return { steps, definite }
}

/** How to look inside a JSON value, so that one evaluator serves parsed values and raw text. */
export type JsonTree<N> = {
  member(node: N, name: string): N | undefined
  element(node: N, index: number): N | undefined
  /** Object values in document order, or array items; none for scalars. */
  children(node: N): readonly N[]
}

/** Every node the steps select, in document order. */
export function selectNodes<N>(root: N, steps: readonly PathStep[], tree: JsonTree<N>): N[] {
  let current = [root]
  for (const step of steps) {
    const next: N[] = []
    for (const node of current) {
      if (step.kind === 'wildcard') {
        for (const child of tree.children(node)) next.push(child)
        continue
      }
      const found =
        step.kind === 'member' ? tree.member(node, step.name) : tree.element(node, step.index)
      if (found !== undefined) next.push(found)
    }
    if (next.length === 0) return next
    current = next
  }
  return current
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const plainTree: JsonTree<unknown> = {
  // own properties only: `$.constructor` must not reach Object.prototype
  member: (node, name) => (isRecord(node) && Object.hasOwn(node, name) ? node[name] : undefined),
  element: (node, index) => (Array.isArray(node) ? (node as unknown[])[index] : undefined),
  children: (node) =>
    Array.isArray(node) ? (node as unknown[]) : isRecord(node) ? Object.values(node) : [],
}

/**
 * The value a path selects in a parsed JSON value. A path with a wildcard gives the list of the
 * values it selects. `undefined` when the path selects nothing or is not valid EventBridge
 * JSONPath (check it with {@link parsePath} first to tell the two apart).
 *
 * @example evaluatePath({ detail: { items: [{ id: 1 }, { id: 2 }] } }, '$.detail.items[*].id')
 * // → [1, 2]
 */
export function evaluatePath(root: unknown, path: string): unknown {
  const parsed = parsePath(path)
  if (parsed === null) return undefined
  const found = selectNodes(root, parsed.steps, plainTree)
  if (parsed.definite) return found[0]
  return found.length === 0 ? undefined : found
}
