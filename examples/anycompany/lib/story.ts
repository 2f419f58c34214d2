/**
 * @module
 * What the example does once the pipeline is up, and what it prints: the fixed batch through
 * every account, the report after a minute of the example's clock, then the live trickle.
 */
import { archiveCount, readRejected, readReport, waitFor, type Report } from './observe.js'
import type { Pipeline } from './pipeline.js'
import { publishWidgets } from '../service-a/publish.js'
import { FIXED_BATCH, liveWidget } from '../service-a/widgets.js'

export type Say = (line?: string) => void
const WAIT_MS = 60_000

/** A publishes the fixed batch; waits for B, C and central to agree with it, and prints. */
export async function firstBatch(p: Pipeline, say: Say): Promise<void> {
  const valid = FIXED_BATCH.filter((e) => e.invalid === undefined).length
  const invalid = FIXED_BATCH.length - valid
  say()
  await publishWidgets(
    p.events('a'),
    FIXED_BATCH.map((e) => e.detail),
  )
  say(
    `A sent ${String(FIXED_BATCH.length)} widget events: ${String(valid)} valid, ${String(invalid)} invalid`,
  )
  for (const e of FIXED_BATCH.filter((x) => x.invalid !== undefined))
    say(`  ${String(e.detail.widget_id)}: invalid on purpose: ${e.invalid!}`)

  const rejected = await readRejected(p.sqs('central'), p.invalidQueueUrl, invalid, WAIT_MS)
  say(
    `central rejected ${String(rejected.length)} into invalid-widgets, with the validator's reasons:`,
  )
  for (const r of rejected) say(`  ${JSON.stringify(r.widgetId)}: ${r.reason}`)
  if (rejected.length !== invalid)
    throw new Error(`central rejected ${String(rejected.length)}, expected ${String(invalid)}`)

  const b = await waitFor(
    'service B',
    () => p.serviceB.snapshot(),
    (s) => s.events >= valid,
    WAIT_MS,
  )
  say(`B counted ${String(b.events)} events (${String(b.totalWeight)} kg):`)
  for (const [name, t] of Object.entries(b.warehouses))
    say(
      `  ${name.padEnd(6)} ${String(t.count).padStart(3)} widgets ${String(t.totalWeight).padStart(8)} kg`,
    )

  const archived = await waitFor(
    "C's archive",
    () => archiveCount(p.events('c'), 'valid-widgets'),
    (n) => n >= valid,
    WAIT_MS,
  )
  say(`C archived ${String(archived)} events in valid-widgets`)
  if (b.events !== valid || archived !== valid)
    throw new Error(
      `B counted ${String(b.events)} and C archived ${String(archived)}; A sent ${String(valid)} valid`,
    )

  await report(p, valid, say)
}

/** Moves the clock a minute and prints C's report once it counts `expected` widgets. */
export async function report(p: Pipeline, expected: number, say: Say): Promise<Report> {
  const before = readReport(p.reportFile)?.asOf
  await p.advanceClock('1m')
  const r = await waitFor(
    "C's report",
    () => readReport(p.reportFile),
    (x) =>
      x !== undefined &&
      x.asOf !== before &&
      x.rows.reduce((n, row) => n + row.widgets, 0) >= expected,
    WAIT_MS,
  )
  say(`clock moved 1m: C's scheduled function reported (as of ${r!.asOf}, ${p.reportFile}):`)
  say('  day         warehouse  widgets  weight (kg)')
  for (const row of r!.rows)
    say(
      `  ${row.day}  ${row.warehouse.padEnd(9)}  ${String(row.widgets).padStart(7)}  ${String(row.total_weight_kg).padStart(11)}`,
    )
  return r!
}

/** The live part: a widget every `seconds`, a report every 10 widgets. */
export async function live(p: Pipeline, seconds: number, say: Say): Promise<void> {
  const a = p.events('a')
  let valid = FIXED_BATCH.filter((e) => e.invalid === undefined).length
  for (let n = 1; ; n++) {
    await new Promise((r) => setTimeout(r, seconds * 1000))
    const entry = liveWidget(n, new Date())
    try {
      await publishWidgets(a, [entry.detail])
      if (entry.invalid === undefined) valid += 1
      say(
        `A sent ${String(entry.detail.widget_id)} (${entry.detail.warehouse ?? '?'}, ${String(entry.detail.weight)} kg)${entry.invalid ? ` — invalid: ${entry.invalid}` : ''}`,
      )
      if (n % 10 === 0) await report(p, valid, say)
    } catch (e) {
      say(`live: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
}
