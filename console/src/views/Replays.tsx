/**
 * @module
 * Replays, through EventBridge's own API: StartReplay of an archive's time window back onto its
 * bus (optionally only to some rules, `Destination.FilterArns`), ListReplays with each one's
 * progress (how far `EventLastReplayedTime` has come through the window, which DescribeReplay
 * and ListReplays both report), and CancelReplay. The list is read again every 2 seconds.
 */
import { useCallback, useEffect, useState } from 'react'
import { events, listAll, type Identity } from '../aws/client.js'
import { listRules, type Bus, type Rule } from '../config.js'
import type { Archive } from './Archives.js'
import { ErrorText } from './BusPicker.js'

type Replay = {
  ReplayName: string
  EventSourceArn: string
  State: string
  StateReason?: string
  EventStartTime: number
  EventEndTime: number
  EventLastReplayedTime?: number
  ReplayStartTime?: number
  ReplayEndTime?: number
}

const ACTIVE = new Set(['STARTING', 'RUNNING', 'CANCELLING'])
const isoOf = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** How far through its window a replay has come, 0 to 1. */
function progress(r: Replay): number {
  if (r.State === 'COMPLETED') return 1
  if (r.EventLastReplayedTime === undefined) return 0
  const span = r.EventEndTime - r.EventStartTime
  return span <= 0 ? 0 : Math.min(1, (r.EventLastReplayedTime - r.EventStartTime) / span)
}

export function Replays(props: {
  id: Identity
  archives: Archive[]
  buses: Bus[]
  selected: string | undefined
}) {
  const { id } = props
  const [replays, setReplays] = useState<Replay[]>([])
  const [error, setError] = useState<unknown>()

  const reload = useCallback(async () => {
    const all = await listAll<Replay>(async (NextToken) => {
      const out = await events<{ Replays?: Replay[]; NextToken?: string }>(id, 'ListReplays', {
        ...(NextToken === undefined ? {} : { NextToken }),
      })
      return { items: out.Replays ?? [], next: out.NextToken }
    })
    setReplays(all.sort((a, b) => (b.ReplayStartTime ?? 0) - (a.ReplayStartTime ?? 0)))
  }, [id])
  useEffect(() => {
    reload().catch(setError)
    const timer = setInterval(() => void reload().catch(setError), 2000)
    return () => clearInterval(timer)
  }, [reload])

  const cancel = async (name: string) => {
    await events(id, 'CancelReplay', { ReplayName: name })
    await reload()
  }

  return (
    <div className="replays">
      <h2>Replays</h2>
      <StartReplay
        id={id}
        archives={props.archives}
        buses={props.buses}
        initial={props.selected}
        onStarted={() => void reload().catch(setError)}
      />
      <ErrorText error={error} />
      <table className="rows" data-testid="replays">
        <thead>
          <tr>
            <th>replay</th>
            <th>archive</th>
            <th>window</th>
            <th>state</th>
            <th>progress</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {replays.map((r) => (
            <tr key={r.ReplayName} data-testid={`replay-${r.ReplayName}`}>
              <td>{r.ReplayName}</td>
              <td>{r.EventSourceArn.replace(/^.*:archive\//, '')}</td>
              <td>
                {isoOf(r.EventStartTime * 1000)} to {isoOf(r.EventEndTime * 1000)}
              </td>
              <td data-testid="replay-state" title={r.StateReason}>
                {r.State}
                {r.StateReason !== undefined && r.State !== 'COMPLETED' ? `: ${r.StateReason}` : ''}
              </td>
              <td>
                <progress max={1} value={progress(r)} /> {Math.round(progress(r) * 100)}%
              </td>
              <td>
                {ACTIVE.has(r.State) && r.State !== 'CANCELLING' && (
                  <button onClick={() => void cancel(r.ReplayName).catch(setError)}>Cancel</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function StartReplay(props: {
  id: Identity
  archives: Archive[]
  buses: Bus[]
  initial: string | undefined
  onStarted: () => void
}) {
  const { id } = props
  const [archive, setArchive] = useState(props.initial ?? props.archives[0]?.ArchiveName ?? '')
  const [name, setName] = useState('')
  const [start, setStart] = useState(() => isoOf(Date.now() - 3_600_000))
  const [end, setEnd] = useState(() => isoOf(Date.now()))
  const [rules, setRules] = useState<Rule[]>([])
  const [only, setOnly] = useState<string[]>([])
  const [error, setError] = useState<unknown>()
  useEffect(() => {
    if (props.initial !== undefined) setArchive(props.initial)
  }, [props.initial])

  const source = props.archives.find((a) => a.ArchiveName === archive)
  const busArn = source?.EventSourceArn
  const busName = props.buses.find((b) => b.Arn === busArn)?.Name
  useEffect(() => {
    setOnly([])
    if (busName === undefined) return
    // Rules an archive made for itself never take replayed events: not offered.
    listRules(id, busName).then(
      (r) => setRules(r.filter((x) => !x.Name.startsWith('Events-Archive-'))),
      setError,
    )
  }, [id, busName])

  const from = Date.parse(start)
  const to = Date.parse(end)
  const valid = name !== '' && source !== undefined && from < to
  const begin = async () => {
    setError(undefined)
    try {
      const archiveArn = (
        await events<{ ArchiveArn: string }>(id, 'DescribeArchive', { ArchiveName: archive })
      ).ArchiveArn
      await events(id, 'StartReplay', {
        ReplayName: name,
        EventSourceArn: archiveArn,
        EventStartTime: from / 1000,
        EventEndTime: to / 1000,
        Destination: { Arn: busArn, ...(only.length === 0 ? {} : { FilterArns: only }) },
      })
      setName('')
      props.onStarted()
    } catch (e) {
      setError(e)
    }
  }
  return (
    <fieldset data-testid="start-replay">
      <legend>Start a replay</legend>
      <label>
        Archive{' '}
        <select
          data-testid="replay-archive"
          value={archive}
          onChange={(e) => setArchive(e.target.value)}
        >
          {props.archives.map((a) => (
            <option key={a.ArchiveName}>{a.ArchiveName}</option>
          ))}
        </select>
      </label>{' '}
      <label>
        Name{' '}
        <input data-testid="replay-name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>{' '}
      <label>
        From (UTC){' '}
        <input
          data-testid="replay-from"
          size={22}
          value={start}
          onChange={(e) => setStart(e.target.value)}
        />
      </label>{' '}
      <label>
        to{' '}
        <input
          data-testid="replay-to"
          size={22}
          value={end}
          onChange={(e) => setEnd(e.target.value)}
        />
      </label>
      {Number.isNaN(from) || Number.isNaN(to) ? (
        <p className="error">Times are ISO 8601, e.g. 2026-01-31T09:00:00Z.</p>
      ) : from >= to ? (
        <p className="error">The window must end after it starts.</p>
      ) : null}
      <p>
        Only to these rules (none ticked: every rule of {busName ?? 'the bus'}):{' '}
        {rules.map((r) => (
          <label key={r.Arn} className="check">
            <input
              type="checkbox"
              data-testid={`replay-rule-${r.Name}`}
              checked={only.includes(r.Arn)}
              onChange={(e) =>
                setOnly(e.target.checked ? [...only, r.Arn] : only.filter((a) => a !== r.Arn))
              }
            />
            {r.Name}
          </label>
        ))}
      </p>
      <ErrorText error={error} />
      <button data-testid="replay-start" disabled={!valid} onClick={() => void begin()}>
        Start the replay
      </button>
    </fieldset>
  )
}
