/**
 * @module
 * The sandbox: an event against every rule of a bus, each verdict explained by the pattern
 * engine the server routes with, and for each matched rule what each target would receive after
 * its input settings (the server's own transformer code). Events can be sent (PutEvents) and kept
 * in named collections (localStorage, this browser only).
 */
import { useEffect, useMemo, useState } from 'react'
import { explain } from '../../../src/pattern/index.js'
import { readTargetInput, renderInput } from '../../../src/transform/index.js'
import { events, type Identity } from '../aws/client.js'
import { rulesWithTargets, type RuleWithTargets, type Target } from '../config.js'
import { BusPicker, ErrorText } from './BusPicker.js'

const COLLECTIONS = 'junction.console.collections'
type Saved = { name: string; event: string }
type Collections = Record<string, Saved[]>

const loadCollections = (): Collections => {
  try {
    return JSON.parse(localStorage.getItem(COLLECTIONS) ?? '{}') as Collections
  } catch {
    return {}
  }
}

const sample = (id: Identity) =>
  JSON.stringify(
    {
      version: '0',
      id: '00000000-0000-0000-0000-000000000000',
      'detail-type': 'OrderPlaced',
      source: 'my.app',
      account: id.account ?? '123456789012',
      time: new Date().toISOString().replace(/\.\d{3}/, ''),
      region: id.region,
      resources: [],
      detail: { orderId: 'o-1', total: 42 },
    },
    null,
    2,
  )

/** The envelope as targets receive it: EventBridge's key order, missing fields filled in. */
function envelopeOf(id: Identity, text: string): { object: Record<string, unknown>; text: string } {
  const e: unknown = JSON.parse(text)
  if (e === null || typeof e !== 'object' || Array.isArray(e))
    throw new Error('The event must be a JSON object.')
  return envelopeOfObject(id, e as Record<string, unknown>)
}

function envelopeOfObject(
  id: Identity,
  e: Record<string, unknown>,
): { object: Record<string, unknown>; text: string } {
  const object = {
    version: e.version ?? '0',
    id: e.id ?? '00000000-0000-0000-0000-000000000000',
    'detail-type': e['detail-type'] ?? '',
    source: e.source ?? '',
    account: e.account ?? id.account ?? '',
    time: e.time ?? new Date().toISOString().replace(/\.\d{3}/, ''),
    region: e.region ?? id.region,
    resources: e.resources ?? [],
    detail: e.detail ?? {},
  }
  return { object, text: JSON.stringify(object) }
}

function inputOf(t: Target) {
  return readTargetInput(t.Id, {
    input: t.Input,
    inputPath: t.InputPath,
    inputTransformer:
      t.InputTransformer === undefined
        ? undefined
        : {
            inputTemplate: t.InputTransformer.InputTemplate,
            ...(t.InputTransformer.InputPathsMap === undefined
              ? {}
              : { inputPathsMap: t.InputTransformer.InputPathsMap }),
          },
  })
}

export function Sandbox(props: { id: Identity; initialEvent: string | undefined }) {
  const { id } = props
  const [bus, setBus] = useState('default')
  const [text, setText] = useState(() =>
    props.initialEvent !== undefined
      ? JSON.stringify(JSON.parse(props.initialEvent), null, 2)
      : sample(id),
  )
  const [rules, setRules] = useState<RuleWithTargets[]>([])
  const [error, setError] = useState<unknown>()
  const [sent, setSent] = useState<string | undefined>()
  const [collections, setCollections] = useState<Collections>(loadCollections)
  const [collection, setCollection] = useState('default')
  const [eventName, setEventName] = useState('')

  useEffect(() => {
    rulesWithTargets(id, bus).then(setRules, setError)
  }, [id, bus])

  const envelope = useMemo(() => {
    try {
      return envelopeOf(id, text)
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) }
    }
  }, [id, text])

  const send = async () => {
    if ('error' in envelope) return
    setError(undefined)
    setSent(undefined)
    const e = envelope.object
    try {
      const out = await events<{
        FailedEntryCount?: number
        Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[]
      }>(id, 'PutEvents', {
        Entries: [
          {
            Source: e.source,
            DetailType: e['detail-type'],
            Detail: JSON.stringify(e.detail),
            Resources: e.resources,
            EventBusName: bus,
          },
        ],
      })
      const entry = out.Entries?.[0]
      if (entry?.EventId !== undefined) setSent(entry.EventId)
      else setError({ code: entry?.ErrorCode, message: entry?.ErrorMessage })
    } catch (err) {
      setError(err)
    }
  }

  const saveEvent = () => {
    const name =
      eventName === '' ? `event ${String((collections[collection]?.length ?? 0) + 1)}` : eventName
    const next = {
      ...collections,
      [collection]: [...(collections[collection] ?? []), { name, event: text }],
    }
    localStorage.setItem(COLLECTIONS, JSON.stringify(next))
    setCollections(next)
  }
  const drop = (c: string, k: number) => {
    const left = (collections[c] ?? []).filter((_, i) => i !== k)
    const next = Object.fromEntries(
      Object.entries({ ...collections, [c]: left }).filter(([, saved]) => saved.length > 0),
    )
    localStorage.setItem(COLLECTIONS, JSON.stringify(next))
    setCollections(next)
  }

  return (
    <section className="sandbox">
      <div className="toolbar">
        <BusPicker id={id} value={bus} onChange={setBus} />
        <button data-testid="send-event" disabled={'error' in envelope} onClick={() => void send()}>
          Send to {bus} (PutEvents)
        </button>
        {sent !== undefined && <span data-testid="sent">Sent: {sent}</span>}
      </div>
      <ErrorText error={error} />
      <div className="columns">
        <div>
          <label className="block">
            Event
            <textarea
              data-testid="sandbox-event"
              rows={18}
              spellCheck={false}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </label>
          {'error' in envelope && <p className="error">{envelope.error}</p>}
          <fieldset>
            <legend>Collections</legend>
            <input
              value={collection}
              onChange={(e) => setCollection(e.target.value)}
              placeholder="collection"
            />
            <input
              value={eventName}
              onChange={(e) => setEventName(e.target.value)}
              placeholder="event name"
            />
            <button data-testid="save-event" onClick={saveEvent}>
              Save
            </button>
            {Object.entries(collections).map(([c, saved]) => (
              <div key={c}>
                <strong>{c}</strong>
                <ul>
                  {saved.map((s, k) => (
                    <li key={k}>
                      <button onClick={() => setText(s.event)}>{s.name}</button>{' '}
                      <button onClick={() => drop(c, k)} title="Delete">
                        ×
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </fieldset>
        </div>
        <div data-testid="verdicts">
          {'error' in envelope
            ? null
            : rules.map((r) => <Verdict key={r.Arn} rule={r} envelope={envelope} />)}
          {rules.length === 0 && <p>No rules on this bus.</p>}
        </div>
      </div>
    </section>
  )
}

function Verdict(props: {
  rule: RuleWithTargets
  envelope: { object: Record<string, unknown>; text: string }
}) {
  const { rule, envelope } = props
  if (rule.EventPattern === undefined)
    return (
      <article className="verdict">
        <h4>{rule.Name}</h4>
        <p>Scheduled ({rule.ScheduleExpression}): no pattern.</p>
      </article>
    )
  let verdict: { matched: boolean; text: string }
  try {
    verdict = explain(rule.EventPattern, envelope.object)
  } catch (e) {
    verdict = { matched: false, text: e instanceof Error ? e.message : String(e) }
  }
  return (
    <article
      className={verdict.matched ? 'verdict match' : 'verdict miss'}
      data-testid={`verdict-${rule.Name}`}
    >
      <h4>
        {rule.Name}: {verdict.matched ? 'matches' : 'does not match'}
        {rule.State === 'DISABLED' ? ' (disabled)' : ''}
      </h4>
      <p className="explanation">{verdict.text}</p>
      {verdict.matched &&
        rule.targets.map((t) => {
          const input = inputOf(t)
          const body =
            'error' in input
              ? input.error
              : renderInput(input.input, envelope, {
                  ruleArn: rule.Arn,
                  ruleName: rule.Name,
                  ingestionTime: String(envelope.object.time),
                })
          return (
            <div key={t.Id} className="target-input">
              <code>{t.Id}</code> ({t.Arn}) receives:
              <pre>{body ?? '(nothing: the template does not come out as JSON)'}</pre>
            </div>
          )
        })}
    </article>
  )
}
