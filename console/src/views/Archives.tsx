/**
 * @module
 * Archives, through EventBridge's own API: ListArchives with each one's state and counts,
 * DescribeArchive for its pattern, CreateArchive (the pattern checked as it is typed by the
 * bundled pattern engine, as the rule editor does) and DeleteArchive. Replays of an archive are
 * in `Replays.tsx`, shown below the list.
 */
import { useCallback, useEffect, useState } from 'react'
import { checkPattern } from '../../../src/pattern/index.js'
import { events, listAll, type Identity } from '../aws/client.js'
import { listBuses, pretty, type Bus } from '../config.js'
import { ErrorText } from './BusPicker.js'
import { Replays } from './Replays.js'

export type Archive = {
  ArchiveName: string
  EventSourceArn: string
  State: string
  StateReason?: string
  RetentionDays?: number
  SizeBytes?: number
  EventCount?: number
  CreationTime?: number
}
type Described = Archive & { EventPattern?: string; Description?: string; ArchiveArn: string }

export const listArchives = (id: Identity) =>
  listAll<Archive>(async (NextToken) => {
    const out = await events<{ Archives?: Archive[]; NextToken?: string }>(id, 'ListArchives', {
      ...(NextToken === undefined ? {} : { NextToken }),
    })
    return { items: out.Archives ?? [], next: out.NextToken }
  })

export function Archives(props: { id: Identity }) {
  const { id } = props
  const [archives, setArchives] = useState<Archive[] | undefined>()
  const [buses, setBuses] = useState<Bus[]>([])
  const [open, setOpen] = useState<Described | undefined>()
  const [creating, setCreating] = useState(false)
  const [error, setError] = useState<unknown>()

  const reload = useCallback(async () => {
    setArchives(await listArchives(id))
    setBuses(await listBuses(id))
  }, [id])
  useEffect(() => {
    reload().catch(setError)
  }, [reload])

  const describe = async (name: string) => {
    setError(undefined)
    setOpen(await events<Described>(id, 'DescribeArchive', { ArchiveName: name }))
  }
  const remove = async (name: string) => {
    if (!confirm(`Delete the archive ${name} and its events?`)) return
    await events(id, 'DeleteArchive', { ArchiveName: name })
    if (open?.ArchiveName === name) setOpen(undefined)
    await reload()
  }

  return (
    <section className="archives">
      <div className="toolbar">
        <button data-testid="new-archive" onClick={() => setCreating(true)}>
          Create an archive
        </button>
        <button data-testid="archives-refresh" onClick={() => void reload().catch(setError)}>
          Refresh
        </button>
      </div>
      <ErrorText error={error} />
      {creating && (
        <CreateArchive
          id={id}
          buses={buses}
          onDone={() => {
            setCreating(false)
            void reload().catch(setError)
          }}
        />
      )}
      {archives?.length === 0 && <p>No archives.</p>}
      <table className="rows">
        <thead>
          <tr>
            <th>archive</th>
            <th>bus</th>
            <th>state</th>
            <th>events</th>
            <th>bytes</th>
            <th>retention</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {archives?.map((a) => (
            <tr key={a.ArchiveName} data-testid={`archive-${a.ArchiveName}`}>
              <td>{a.ArchiveName}</td>
              <td>{a.EventSourceArn.replace(/^.*:event-bus\//, '')}</td>
              <td title={a.StateReason}>{a.State}</td>
              <td data-testid="event-count">{a.EventCount ?? 0}</td>
              <td>{a.SizeBytes ?? 0}</td>
              <td>{a.RetentionDays ? `${String(a.RetentionDays)} days` : 'for good'}</td>
              <td>
                <button
                  data-testid="open-archive"
                  onClick={() => void describe(a.ArchiveName).catch(setError)}
                >
                  Open
                </button>{' '}
                <button
                  data-testid="delete-archive"
                  onClick={() => void remove(a.ArchiveName).catch(setError)}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && (
        <article className="rule" data-testid="archive-detail">
          <h3>{open.ArchiveName}</h3>
          {open.Description !== undefined && <p>{open.Description}</p>}
          <p>
            <code>{open.ArchiveArn}</code>
          </p>
          <p>Pattern: {open.EventPattern === undefined ? 'every event of the bus' : ''}</p>
          {open.EventPattern !== undefined && (
            <pre className="pattern">{pretty(open.EventPattern)}</pre>
          )}
        </article>
      )}
      {archives !== undefined && archives.length > 0 && (
        <Replays id={id} archives={archives} buses={buses} selected={open?.ArchiveName} />
      )}
    </section>
  )
}

function CreateArchive(props: { id: Identity; buses: Bus[]; onDone: () => void }) {
  const [name, setName] = useState('')
  const [bus, setBus] = useState('default')
  const [pattern, setPattern] = useState('')
  const [retention, setRetention] = useState('0')
  const [description, setDescription] = useState('')
  const [error, setError] = useState<unknown>()
  const patternError = pattern.trim() === '' ? null : checkPattern(pattern)
  const arn = props.buses.find((b) => b.Name === bus)?.Arn
  const valid = name !== '' && patternError === null && arn !== undefined

  const save = async () => {
    setError(undefined)
    try {
      await events(props.id, 'CreateArchive', {
        ArchiveName: name,
        EventSourceArn: arn,
        ...(pattern.trim() === '' ? {} : { EventPattern: pattern }),
        RetentionDays: Number(retention) || 0,
        ...(description === '' ? {} : { Description: description }),
      })
      props.onDone()
    } catch (e) {
      setError(e)
    }
  }
  return (
    <fieldset className="editor" data-testid="archive-editor">
      <legend>New archive</legend>
      <label>
        Name{' '}
        <input data-testid="archive-name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>{' '}
      <label>
        Bus{' '}
        <select data-testid="archive-bus" value={bus} onChange={(e) => setBus(e.target.value)}>
          {props.buses.map((b) => (
            <option key={b.Arn} value={b.Name}>
              {b.Name}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Retention (days, 0: for good){' '}
        <input size={5} value={retention} onChange={(e) => setRetention(e.target.value)} />
      </label>{' '}
      <label>
        Description <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <label className="block">
        Event pattern (empty: every event of the bus)
        <textarea
          data-testid="archive-pattern"
          rows={5}
          spellCheck={false}
          value={pattern}
          onChange={(e) => setPattern(e.target.value)}
        />
      </label>
      <p className={patternError ? 'error' : 'ok'} data-testid="archive-pattern-check">
        {patternError ? patternError.message : pattern.trim() === '' ? '' : 'Valid pattern.'}
      </p>
      <ErrorText error={error} />
      <button data-testid="save-archive" disabled={!valid} onClick={() => void save()}>
        Create
      </button>{' '}
      <button onClick={props.onDone}>Cancel</button>
    </fieldset>
  )
}
