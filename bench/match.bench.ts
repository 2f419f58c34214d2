/**
 * `npm run bench:match`: the pattern engine on the citylots2 stand-in, against `JSON.parse` of
 * the same lines measured in the same run, and at scale (1,000 and 10,000 rules on one bus).
 * Prints figures; asserts only that match counts equal the recorded ones.
 *
 * Options: `--lines N` (default all 213,068), `--passes N` measured passes (default 3).
 */
import { createMatcher, type Matcher } from '../src/pattern/index.js'
import { cl2, loadLines } from './citylots.js'

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}
const passes = arg('passes', 3)
const lines = loadLines('citylots2-synth.json.gz', arg('lines', Infinity))
const fullData = lines.length === 213068

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Events per second of `work` over all lines: the median of `passes` passes after a warm-up. */
function rate(work: (line: string) => void): number {
  const runs: number[] = []
  for (let p = 0; p <= passes; p++) {
    const start = process.hrtime.bigint()
    for (const line of lines) work(line)
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    if (p > 0) runs.push(lines.length / seconds)
  }
  return median(runs)
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

let sink = 0
const parseRate = rate((line) => {
  sink += (JSON.parse(line) as { type: string }).type.length
})
console.log(`citylots2-synth: ${fmt(lines.length)} lines, ${passes} measured passes each (median)`)
console.log(`JSON.parse alone: ${fmt(parseRate)} events/s\n`)

const { groups, combos } = cl2()
const sets: [string, [string, { patterns: unknown[]; synthExpected: number[] }][]][] = [
  ...Object.entries(groups).map(([name, g]): [string, [string, typeof g][]] => [name, [[name, g]]]),
  ...Object.entries(combos).map(
    ([name, members]): [string, [string, (typeof groups)[string]][]] => [
      name,
      members.map((m) => [m, groups[m]!]),
    ],
  ),
]

console.log('set                          events/s   x JSON.parse   counts')
let bad = 0
for (const [name, members] of sets) {
  const matcher: Matcher = createMatcher()
  for (const [group, g] of members) {
    g.patterns.forEach((p, i) => matcher.add(`${group}/${i}`, JSON.stringify(p)))
  }
  const counts = new Map<string, number>()
  for (const line of lines) {
    for (const id of matcher.matches(line)) counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  let verdict = 'ok'
  if (fullData) {
    for (const [group, g] of members) {
      g.synthExpected.forEach((want, i) => {
        const got = counts.get(`${group}/${i}`) ?? 0
        if (got !== want) verdict = `WRONG ${group}/${i}: ${got} != ${want}`
      })
    }
  } else verdict = 'not checked (partial data)'
  if (verdict.startsWith('WRONG')) bad++
  const r = rate((line) => {
    sink += matcher.matches(line).length
  })
  console.log(
    `${name.padEnd(26)} ${fmt(r).padStart(10)}   ${(r / parseRate).toFixed(2).padStart(10)}x   ${verdict}`,
  )
}

// ---------------------------------------------------------------------------------------------
// Scale: many realistic rules on one bus

function realisticRule(i: number): string {
  const kinds = [
    { source: [`com.team${i % 97}.orders`], 'detail-type': [`Order ${i} Created`] },
    {
      source: [`com.team${i % 97}.billing`],
      detail: { amount: [{ numeric: ['>', i % 1000] }], currency: ['EUR', 'USD'] },
    },
    { source: [{ prefix: `com.team${i % 97}.` }], detail: { customerId: [`c-${i}`] } },
    {
      'detail-type': ['Widget Updated'],
      detail: { widget_id: [`w-${i}`], state: [{ 'anything-but': 'deleted' }] },
    },
    { source: [`com.team${i % 97}.auth`], detail: { ip: [{ cidr: `10.${i % 250}.0.0/16` }] } },
  ]
  return JSON.stringify(kinds[i % kinds.length])
}

function event(i: number): string {
  return JSON.stringify({
    version: '0',
    id: `e-${i}`,
    'detail-type': i % 3 === 0 ? 'Widget Updated' : `Order ${i} Created`,
    source: `com.team${i % 97}.${['orders', 'billing', 'auth'][i % 3]!}`,
    account: '111111111111',
    time: '2026-11-29T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      widget_id: `w-${i}`,
      customerId: `c-${i}`,
      amount: i % 2000,
      currency: 'EUR',
      state: 'active',
      ip: `10.${i % 250}.1.1`,
      items: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 2 },
      ],
    },
  })
}

const events = Array.from({ length: 20000 }, (_, i) => event(i))
function eventRate(m: Matcher): number {
  const runs: number[] = []
  for (let p = 0; p <= passes; p++) {
    const start = process.hrtime.bigint()
    for (const e of events) sink += m.matches(e).length
    if (p > 0) runs.push(events.length / (Number(process.hrtime.bigint() - start) / 1e9))
  }
  return median(runs)
}

console.log(
  '\nscale (realistic rules: exact, prefix, numeric, anything-but, cidr; 20,000 envelopes)',
)
const parseEnvelopes = (() => {
  const start = process.hrtime.bigint()
  for (const e of events) sink += (JSON.parse(e) as { id: string }).id.length
  return events.length / (Number(process.hrtime.bigint() - start) / 1e9)
})()
let tenRuleRate = 0
for (const n of [10, 1000, 10000]) {
  globalThis.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const start = process.hrtime.bigint()
  const m = createMatcher()
  for (let i = 0; i < n; i++) m.add(`r${i}`, realisticRule(i))
  const compileMs = Number(process.hrtime.bigint() - start) / 1e6
  globalThis.gc?.()
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576
  const r = eventRate(m)
  if (n === 10) tenRuleRate = r
  console.log(
    `${fmt(n).padStart(6)} rules: compile ${compileMs.toFixed(0).padStart(5)} ms, heap ${heapMb.toFixed(1).padStart(6)} MB, ` +
      `${fmt(r).padStart(9)} events/s (${(r / tenRuleRate).toFixed(2)}x the 10-rule rate, ${(r / parseEnvelopes).toFixed(2)}x JSON.parse)`,
  )
}
if (sink === -1) console.log('')
if (bad > 0) {
  console.error(`${bad} sets gave wrong counts`)
  process.exitCode = 1
}
