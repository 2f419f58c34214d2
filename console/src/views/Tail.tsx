/**
 * @module
 * Live tail of one bus, optionally narrowed by a pattern (checked as typed, applied by the
 * server). Built to keep up with a fast bus: events are parsed and rendered once per animation
 * frame, only the last {@link WINDOW} are on the page, and when more than {@link MAX_PENDING}
 * arrive between two frames the oldest of them are dropped and counted instead of rendered.
 */
import { useEffect, useRef, useState } from 'react'
import { checkPattern } from '../../../src/pattern/index.js'
import { ApiError, tail, type Identity } from '../aws/client.js'
import { BusPicker, ErrorText } from './BusPicker.js'

const WINDOW = 500
const MAX_PENDING = 2000

type Row = {
  key: number
  time: string
  source: string
  detailType: string
  rules: string[]
  json: string
}

export function Tail(props: { id: Identity; onOpenInSandbox: (event: string) => void }) {
  const { id } = props
  const [bus, setBus] = useState('default')
  const [pattern, setPattern] = useState('')
  const [running, setRunning] = useState(true)
  const [applied, setApplied] = useState<string | undefined>()
  const [rows, setRows] = useState<Row[]>([])
  const [stats, setStats] = useState({ received: 0, dropped: 0 })
  const [error, setError] = useState<unknown>()
  const pending = useRef<string[]>([])
  const counts = useRef({ received: 0, dropped: 0, key: 0 })

  const patternError = pattern.trim() === '' ? null : checkPattern(pattern)

  useEffect(() => {
    if (!running) return
    const abort = new AbortController()
    setError(undefined)
    tail(
      id,
      bus,
      applied,
      (line) => {
        counts.current.received++
        pending.current.push(line)
        if (pending.current.length > MAX_PENDING) {
          const excess = pending.current.length - MAX_PENDING
          pending.current.splice(0, excess)
          counts.current.dropped += excess
        }
      },
      abort.signal,
    ).catch((e: unknown) => {
      if (!abort.signal.aborted) setError(e instanceof ApiError ? e : { message: String(e) })
    })
    let frame = 0
    const flush = () => {
      const lines = pending.current.splice(0, pending.current.length)
      if (lines.length > 0) {
        // Only the lines that will stay in the window are parsed.
        const fresh = lines.slice(-WINDOW).map((line): Row => {
          const { event, rules } = JSON.parse(line) as {
            event: Record<string, unknown>
            rules: string[]
          }
          return {
            key: counts.current.key++,
            time: String(event.time),
            source: String(event.source),
            detailType: String(event['detail-type']),
            rules,
            json: JSON.stringify(event),
          }
        })
        // Lines that would scroll out of the window in the same frame are never drawn.
        counts.current.dropped += Math.max(0, lines.length - WINDOW)
        setRows((old) => old.concat(fresh).slice(-WINDOW))
        setStats({ received: counts.current.received, dropped: counts.current.dropped })
      }
      frame = requestAnimationFrame(flush)
    }
    frame = requestAnimationFrame(flush)
    return () => {
      abort.abort()
      cancelAnimationFrame(frame)
    }
  }, [id, bus, applied, running])

  return (
    <section className="tail">
      <div className="toolbar">
        <BusPicker
          id={id}
          value={bus}
          onChange={(b) => {
            setRows([])
            setBus(b)
          }}
        />
        <button data-testid="tail-toggle" onClick={() => setRunning(!running)}>
          {running ? 'Pause' : 'Resume'}
        </button>
        <button onClick={() => setRows([])}>Clear</button>
        <span data-testid="tail-stats">
          {stats.received} received, {stats.dropped} dropped (the browser fell behind),{' '}
          {rows.length} shown
        </span>
      </div>
      <label className="block">
        Filter pattern (empty: every event)
        <textarea
          data-testid="tail-pattern"
          rows={3}
          spellCheck={false}
          value={pattern}
          onChange={(e) => setPattern(e.target.value)}
        />
      </label>
      <p className={patternError ? 'error' : 'ok'}>
        {patternError ? patternError.message : ''}{' '}
        <button
          disabled={patternError !== null}
          data-testid="tail-apply"
          onClick={() => {
            setRows([])
            setApplied(pattern.trim() === '' ? undefined : pattern)
          }}
        >
          Apply filter
        </button>
      </p>
      <ErrorText error={error} />
      <table className="rows" data-testid="tail-rows">
        <thead>
          <tr>
            <th>time</th>
            <th>source</th>
            <th>detail-type</th>
            <th>rules matched</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {rows
            .slice()
            .reverse()
            .map((r) => (
              <tr key={r.key} title={r.json}>
                <td>{r.time}</td>
                <td>{r.source}</td>
                <td>{r.detailType}</td>
                <td>{r.rules.join(', ')}</td>
                <td>
                  <button onClick={() => props.onOpenInSandbox(r.json)}>Sandbox</button>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  )
}
