/**
 * @module
 * Metrics per rule as small charts: TriggeredRules, Invocations and FailedInvocations over the
 * last few minutes, from `/metrics` (the Prometheus text `junction serve` exports, unsigned as
 * every Prometheus scrape is) read every {@link POLL_MS} ms into a bounded history
 * (`metrics/history.ts`). The rules shown are the signed-in account's (ListRules on each bus):
 * the metrics are labelled by bus and rule name only, as CloudWatch's dimensions are.
 */
import { useCallback, useEffect, useRef, useState } from 'react'
import { metrics, type Identity } from '../aws/client.js'
import { listBuses, listRules } from '../config.js'
import { CHARTED, MAX_POINTS, MetricHistory, type Charted } from '../metrics/history.js'
import { ErrorText } from './BusPicker.js'

const POLL_MS = 3000
const WINDOW_MS = POLL_MS * MAX_POINTS
const W = 200
const H = 44

export function Metrics(props: { id: Identity }) {
  const { id } = props
  const history = useRef(new MetricHistory())
  const [rules, setRules] = useState<{ bus: string; name: string }[] | undefined>()
  const [now, setNow] = useState(Date.now)
  const [error, setError] = useState<unknown>()

  const loadRules = useCallback(async () => {
    const buses = await listBuses(id)
    const all = await Promise.all(
      buses.map(async (b) =>
        (await listRules(id, b.Name)).map((r) => ({ bus: b.Name, name: r.Name })),
      ),
    )
    setRules(all.flat())
  }, [id])
  useEffect(() => {
    loadRules().catch(setError)
    const poll = async () => {
      const samples = await metrics(id)
      const t = Date.now()
      history.current.add(t, samples)
      setNow(t)
    }
    poll().catch(setError)
    const timer = setInterval(() => void poll().catch(setError), POLL_MS)
    return () => clearInterval(timer)
  }, [id, loadRules])

  const h = history.current
  return (
    <section className="metrics">
      <div className="toolbar">
        <button onClick={() => void loadRules().catch(setError)}>Refresh the rules</button>
        <span>
          Counts per {POLL_MS / 1000} s over the last {WINDOW_MS / 60_000} minutes, read from{' '}
          <code>/metrics</code> while this page is open ({h.length} reads kept).
        </span>
      </div>
      <ErrorText error={error} />
      {rules?.length === 0 && <p>No rules.</p>}
      <table className="rows charts">
        <thead>
          <tr>
            <th>rule</th>
            {CHARTED.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rules?.map((r) => (
            <tr key={`${r.bus}/${r.name}`} data-testid={`metrics-${r.name}`}>
              <td>
                {r.name}
                <div className="sub">bus {r.bus}</div>
              </td>
              {CHARTED.map((c) => (
                <td key={c}>
                  <Chart history={h} bus={r.bus} rule={r.name} name={c} now={now} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Chart(props: {
  history: MetricHistory
  bus: string
  rule: string
  name: Charted
  now: number
}) {
  const { history, bus, rule, name, now } = props
  const points = history.increases(bus, rule, name)
  const total = history.total(bus, rule, name)
  const peak = Math.max(0, ...points.map((p) => p.value))
  const max = Math.max(1, peak)
  const recent = points.reduce((t, p) => t + p.value, 0)
  // The time axis ends now and starts at the oldest read kept, at most the window ago.
  const start = Math.max(now - WINDOW_MS, history.oldest ?? now)
  const x = (time: number) => (now === start ? W : W - ((now - time) / (now - start)) * W)
  const y = (v: number) => H - 2 - (v / max) * (H - 4)
  return (
    <figure className="chart" data-testid={`chart-${name}`} data-recent={recent}>
      <svg width={W} height={H} role="img" aria-label={`${name} of ${rule}`}>
        <rect width={W} height={H} className="frame" />
        <line x1={0} x2={W} y1={H - 2} y2={H - 2} className="base" />
        {/* One bar per read: its width the time between two reads, its height the increase. */}
        {points
          .filter((p) => p.value > 0)
          .map((p) => (
            <rect
              key={p.time}
              className={name === 'FailedInvocations' ? 'bar failing' : 'bar'}
              x={x(p.from)}
              width={Math.max(1.5, x(p.time) - x(p.from))}
              y={y(p.value)}
              height={H - 2 - y(p.value)}
            />
          ))}
      </svg>
      <figcaption>
        {recent} in the window, peak {peak} per read, {total ?? 0} in all
      </figcaption>
    </figure>
  )
}
