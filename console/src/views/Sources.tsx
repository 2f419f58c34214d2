/**
 * @module
 * Change-capture sources, from Junction's own route `GET /junction/sources` (the one
 * `junction sources list` reads, signed for service `events`: a signed key sees its own
 * account's sources only). Each source with its state, its error (with the fix, when the
 * server knows one), its lag in log bytes and in seconds, and the changes captured. Read again
 * every 3 seconds.
 */
import { useCallback, useEffect, useState } from 'react'
import type { Identity } from '../aws/client.js'
import { rest } from '../aws/rest.js'
import { ErrorText } from './BusPicker.js'

export type Source = {
  name: string
  kind: string
  url: string
  busName: string
  publication?: string
  slot?: string
  createdAt: string
  status: {
    state: string
    error?: string
    lagBytes?: number
    lagSeconds?: number
    changesCaptured: number
    checkpoint?: string
  }
}

export const listSources = async (id: Identity) =>
  (await rest<{ sources?: Source[] }>(id, 'events', { path: '/junction/sources' })).sources ?? []

/** Bytes as one reads them: 1.5 MB rather than 1572864. */
export function bytesText(n: number | undefined): string {
  if (n === undefined) return ''
  if (n < 1024) return `${String(n)} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let k = 0
  while (v >= 1024 && k < units.length - 1) {
    v /= 1024
    k++
  }
  return `${v.toFixed(1)} ${units[k]!}`
}

export function Sources(props: { id: Identity }) {
  const { id } = props
  const [sources, setSources] = useState<Source[] | undefined>()
  const [error, setError] = useState<unknown>()

  const reload = useCallback(async () => {
    setSources(await listSources(id))
    setError(undefined)
  }, [id])
  useEffect(() => {
    reload().catch(setError)
    const timer = setInterval(() => void reload().catch(setError), 3000)
    return () => clearInterval(timer)
  }, [reload])

  return (
    <section className="sources">
      <p>
        Change-capture sources stream a database&apos;s changes onto a bus. Add and remove them with{' '}
        <code>junction sources</code>; see docs/cdc.md.
      </p>
      <ErrorText error={error} />
      {sources?.length === 0 && <p>No sources.</p>}
      <table className="rows">
        <thead>
          <tr>
            <th>source</th>
            <th>database</th>
            <th>bus</th>
            <th>state</th>
            <th>lag (log)</th>
            <th>lag (time)</th>
            <th>changes</th>
            <th>checkpoint</th>
          </tr>
        </thead>
        <tbody>
          {sources?.map((s) => (
            <tr key={s.name} data-testid={`source-${s.name}`}>
              <td>{s.name}</td>
              <td>
                {s.kind}: <code>{s.url}</code>
                {s.publication !== undefined && <>, publication {s.publication}</>}
              </td>
              <td>{s.busName}</td>
              <td data-testid="source-state">
                <span className={`state ${s.status.state}`}>{s.status.state}</span>
                {s.status.error !== undefined && <p className="error">{s.status.error}</p>}
              </td>
              <td data-testid="source-lag-bytes">{bytesText(s.status.lagBytes)}</td>
              <td data-testid="source-lag-seconds">
                {s.status.lagSeconds === undefined ? '' : `${s.status.lagSeconds.toFixed(1)} s`}
              </td>
              <td>{s.status.changesCaptured}</td>
              <td>
                <code>{s.status.checkpoint}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
