/**
 * Summarises a V8 `.cpuprofile` (as written by `node --cpu-prof`): the functions with the most
 * self time, and the project's own functions (`src/`) with the most total time (time with the
 * function anywhere on the stack). Percentages are of the busy samples (all but `(idle)`).
 */
import { readFileSync } from 'node:fs'

export type CallFrame = { functionName: string; url: string; lineNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] }
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)'
  if (!f.url) return name
  const at = f.url.indexOf('/src/')
  const file =
    at >= 0
      ? f.url.slice(at + 1)
      : f.url.includes('node_modules/')
        ? f.url.slice(f.url.lastIndexOf('node_modules/') + 13)
        : f.url.replace(/^file:\/\//, '')
  return `${name} ${file}:${String(f.lineNumber + 1)}`
}

/** A profile file with its nodes by id and each node's parent. */
function readProfile(path: string) {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of profile.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  return { profile, byId, parent }
}

export function summarizeProfile(path: string, top = 20): string[] {
  const { profile, byId, parent } = readProfile(path)
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let busy = 0
  let idle = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    const node = byId.get(id)!
    if (node.callFrame.functionName === '(idle)') {
      idle += dt
      return
    }
    busy += dt
    const own = label(node.callFrame)
    self.set(own, (self.get(own) ?? 0) + dt)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      if (!frame.url.includes('/src/')) continue
      const key = label(frame)
      if (seen.has(key)) continue
      seen.add(key)
      total.set(key, (total.get(key) ?? 0) + dt)
    }
  })
  const pct = (v: number) => `${((100 * v) / busy).toFixed(1).padStart(5)}%`
  const lines = [
    `busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s of the profile`,
    'self time (% of busy):',
  ]
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${pct(v)}  ${k}`)
  lines.push('total time of src/ functions (% of busy):')
  for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${pct(v)}  ${k}`)
  return lines
}

/**
 * Where a profile's busy time went, by stage: each sample goes to the first category (in the
 * order given) that any frame of its stack belongs to, so that specific work (a Detail parse)
 * wins over what called it (the HTTP server). Shares are of the busy time outside `start-up`.
 */
export type Category = { name: string; test: (frame: CallFrame) => boolean }

export function breakdownProfile(path: string, categories: Category[]): Map<string, number> {
  const { profile, byId, parent } = readProfile(path)
  const cache = new Map<number, string>()
  const categoryOf = (id: number): string => {
    let found = cache.get(id)
    if (found !== undefined) return found
    const frames: CallFrame[] = []
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      frames.push(byId.get(at)!.callFrame)
    found = categories.find((c) => frames.some(c.test))?.name ?? 'other'
    cache.set(id, found)
    return found
  }
  const time = new Map<string, number>()
  let counted = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!
    if (node.callFrame.functionName === '(idle)') return
    const category = categoryOf(id)
    if (category === 'start-up') return
    const dt = profile.timeDeltas[i] ?? 0
    counted += dt
    time.set(category, (time.get(category) ?? 0) + dt)
  })
  return new Map([...time].map(([k, v]) => [k, v / counted]))
}
