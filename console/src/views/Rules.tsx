/**
 * @module
 * Buses and rules: each rule's pattern pretty-printed, its targets with what they receive,
 * enable and disable, and the rule editor.
 */
import { useCallback, useEffect, useState } from 'react'
import { events, type Identity } from '../aws/client.js'
import { pretty, rulesWithTargets, type RuleWithTargets, type Target } from '../config.js'
import { BusPicker, ErrorText } from './BusPicker.js'
import { RuleEditor } from './RuleEditor.js'

export function Rules(props: { id: Identity }) {
  const { id } = props
  const [bus, setBus] = useState('default')
  const [rules, setRules] = useState<RuleWithTargets[] | undefined>()
  const [error, setError] = useState<unknown>()
  const [editing, setEditing] = useState<RuleWithTargets | 'new' | undefined>()

  const reload = useCallback(() => {
    setError(undefined)
    rulesWithTargets(id, bus).then(setRules, (e: unknown) => {
      setRules([])
      setError(e)
    })
  }, [id, bus])
  useEffect(reload, [reload])

  const setState = (rule: RuleWithTargets, enable: boolean) => {
    events(id, enable ? 'EnableRule' : 'DisableRule', { Name: rule.Name, EventBusName: bus }).then(
      reload,
      setError,
    )
  }

  if (editing !== undefined)
    return (
      <RuleEditor
        id={id}
        bus={bus}
        rule={editing === 'new' ? undefined : editing}
        onDone={() => {
          setEditing(undefined)
          reload()
        }}
      />
    )
  return (
    <section>
      <div className="toolbar">
        <BusPicker id={id} value={bus} onChange={setBus} />
        <button data-testid="new-rule" onClick={() => setEditing('new')}>
          Create a rule
        </button>
        <button onClick={reload}>Refresh</button>
      </div>
      <ErrorText error={error} />
      {rules?.length === 0 && <p>No rules on this bus.</p>}
      {rules?.map((r) => (
        <article key={r.Arn} className="rule" data-testid={`rule-${r.Name}`}>
          <h3>
            {r.Name}{' '}
            <span className={r.State === 'ENABLED' ? 'state on' : 'state off'} data-testid="state">
              {r.State}
            </span>
          </h3>
          {r.Description !== undefined && r.Description !== '' && <p>{r.Description}</p>}
          {r.ScheduleExpression !== undefined && <p>Schedule: {r.ScheduleExpression}</p>}
          {r.EventPattern !== undefined && <pre className="pattern">{pretty(r.EventPattern)}</pre>}
          <ul className="targets">
            {r.targets.map((t) => (
              <li key={t.Id}>
                <code>{t.Id}</code> → <code>{t.Arn}</code>
                <TargetInputText target={t} />
              </li>
            ))}
          </ul>
          <button data-testid="toggle" onClick={() => setState(r, r.State !== 'ENABLED')}>
            {r.State === 'ENABLED' ? 'Disable' : 'Enable'}
          </button>{' '}
          <button data-testid="edit" onClick={() => setEditing(r)}>
            Edit
          </button>
        </article>
      ))}
    </section>
  )
}

export function TargetInputText(props: { target: Target }) {
  const t = props.target
  if (t.Input !== undefined)
    return (
      <div className="input">
        Input (constant): <code>{t.Input}</code>
      </div>
    )
  if (t.InputPath !== undefined)
    return (
      <div className="input">
        InputPath: <code>{t.InputPath}</code>
      </div>
    )
  if (t.InputTransformer !== undefined)
    return (
      <div className="input">
        InputTransformer:{' '}
        <pre>{JSON.stringify(t.InputTransformer.InputPathsMap ?? {}, null, 2)}</pre>
        template: <pre>{t.InputTransformer.InputTemplate}</pre>
      </div>
    )
  return <div className="input">the whole event</div>
}
