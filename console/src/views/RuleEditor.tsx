/**
 * @module
 * Creating or editing a rule: the pattern checked as it is typed by the same engine the server
 * compiles rules with (so the messages are AWS's), each target's input settings checked by
 * PutTargets' own rules, then PutRule, PutTargets and RemoveTargets.
 */
import { useState } from 'react'
import { checkPattern } from '../../../src/pattern/index.js'
import { readTargetInput } from '../../../src/transform/index.js'
import { events, type Identity } from '../aws/client.js'
import { pretty, type RuleWithTargets, type Target } from '../config.js'
import { ErrorText } from './BusPicker.js'

type Mode = 'event' | 'input' | 'path' | 'transformer'
type DraftTarget = {
  Id: string
  Arn: string
  mode: Mode
  text: string
  pathsMap: string
  /** The target as listed: its settings the editor does not show are sent back unchanged. */
  original?: Target
}

const draftOf = (t: Target): DraftTarget => {
  const base = { Id: t.Id, Arn: t.Arn, text: '', pathsMap: '{}', original: t }
  if (t.Input !== undefined) return { ...base, mode: 'input', text: t.Input }
  if (t.InputPath !== undefined) return { ...base, mode: 'path', text: t.InputPath }
  if (t.InputTransformer !== undefined)
    return {
      ...base,
      mode: 'transformer',
      text: t.InputTransformer.InputTemplate,
      pathsMap: JSON.stringify(t.InputTransformer.InputPathsMap ?? {}, null, 2),
    }
  return { ...base, mode: 'event' }
}

/** The PutTargets entry of a draft, or why it is not valid. */
function targetOf(d: DraftTarget): { target: Target } | { error: string } {
  // RetryPolicy, DeadLetterConfig, RoleArn, SqsParameters…: kept as they were.
  const kept: Target = { ...(d.original ?? { Id: d.Id, Arn: d.Arn }) }
  delete kept.Input
  delete kept.InputPath
  delete kept.InputTransformer
  const t: Target = { ...kept, Id: d.Id, Arn: d.Arn }
  if (d.mode === 'input') t.Input = d.text
  if (d.mode === 'path') t.InputPath = d.text
  if (d.mode === 'transformer') {
    let map: Record<string, string>
    try {
      map = JSON.parse(d.pathsMap) as Record<string, string>
    } catch {
      return { error: 'InputPathsMap is not valid JSON.' }
    }
    t.InputTransformer = { InputPathsMap: map, InputTemplate: d.text }
  }
  const checked = readTargetInput(d.Id, {
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
  return 'error' in checked ? { error: checked.error } : { target: t }
}

export function RuleEditor(props: {
  id: Identity
  bus: string
  rule: RuleWithTargets | undefined
  onDone: () => void
}) {
  const { id, bus, rule } = props
  const [name, setName] = useState(rule?.Name ?? '')
  const [description, setDescription] = useState(rule?.Description ?? '')
  const [pattern, setPattern] = useState(
    rule === undefined
      ? '{\n  "source": ["my.app"]\n}'
      : rule.EventPattern !== undefined
        ? pretty(rule.EventPattern)
        : '',
  )
  const [enabled, setEnabled] = useState(rule?.State !== 'DISABLED')
  const [targets, setTargets] = useState<DraftTarget[]>(rule?.targets.map(draftOf) ?? [])
  const [error, setError] = useState<unknown>()
  const [saving, setSaving] = useState(false)

  // A scheduled rule may have no pattern; its schedule (and role) are sent back unchanged.
  const schedule = rule?.ScheduleExpression
  const patternError =
    schedule !== undefined && pattern.trim() === '' ? null : checkPattern(pattern)
  const checked = targets.map(targetOf)
  const valid = name !== '' && patternError === null && checked.every((c) => 'target' in c)
  const change = (k: number, patch: Partial<DraftTarget>) =>
    setTargets(targets.map((t, i) => (i === k ? { ...t, ...patch } : t)))

  const save = async () => {
    setSaving(true)
    setError(undefined)
    try {
      await events(id, 'PutRule', {
        Name: name,
        EventBusName: bus,
        ...(pattern.trim() === '' ? {} : { EventPattern: pattern }),
        ...(schedule === undefined ? {} : { ScheduleExpression: schedule }),
        ...(rule?.RoleArn === undefined ? {} : { RoleArn: rule.RoleArn }),
        State: enabled ? 'ENABLED' : 'DISABLED',
        ...(description === '' ? {} : { Description: description }),
      })
      const gone = (rule?.targets ?? []).filter((t) => !targets.some((d) => d.Id === t.Id))
      if (gone.length > 0)
        await events(id, 'RemoveTargets', {
          Rule: name,
          EventBusName: bus,
          Ids: gone.map((t) => t.Id),
        })
      const entries = checked.flatMap((c) => ('target' in c ? [c.target] : []))
      if (entries.length > 0) {
        const out = await events<{
          FailedEntryCount?: number
          FailedEntries?: { ErrorMessage?: string }[]
        }>(id, 'PutTargets', { Rule: name, EventBusName: bus, Targets: entries })
        if ((out.FailedEntryCount ?? 0) > 0)
          throw new Error(
            out.FailedEntries?.map((f) => f.ErrorMessage).join('; ') ?? 'PutTargets failed',
          )
      }
      props.onDone()
    } catch (e) {
      setError(e)
    } finally {
      setSaving(false)
    }
  }

  return (
    <section className="editor" data-testid="rule-editor">
      <h2>{rule ? `Edit ${rule.Name}` : `New rule on ${bus}`}</h2>
      <label>
        Name{' '}
        <input
          data-testid="rule-name"
          value={name}
          readOnly={rule !== undefined}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <label>
        Description <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <label>
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />{' '}
        Enabled
      </label>
      <label className="block">
        Event pattern
        <textarea
          data-testid="rule-pattern"
          rows={10}
          spellCheck={false}
          value={pattern}
          onChange={(e) => setPattern(e.target.value)}
        />
      </label>
      <p className={patternError ? 'error' : 'ok'} data-testid="pattern-check">
        {patternError ? patternError.message : 'Valid pattern.'}
      </p>
      <h3>Targets</h3>
      {targets.map((t, k) => {
        const c = checked[k]!
        return (
          <fieldset key={k} data-testid={`target-${String(k)}`}>
            <label>
              Id{' '}
              <input
                data-testid="target-id"
                value={t.Id}
                onChange={(e) => change(k, { Id: e.target.value })}
              />
            </label>
            <label>
              ARN{' '}
              <input
                data-testid="target-arn"
                size={60}
                value={t.Arn}
                onChange={(e) => change(k, { Arn: e.target.value })}
              />
            </label>
            <label>
              Receives{' '}
              <select value={t.mode} onChange={(e) => change(k, { mode: e.target.value as Mode })}>
                <option value="event">the event</option>
                <option value="input">a constant (Input)</option>
                <option value="path">a part (InputPath)</option>
                <option value="transformer">a template (InputTransformer)</option>
              </select>
            </label>
            {t.mode === 'transformer' && (
              <label className="block">
                InputPathsMap
                <textarea
                  rows={3}
                  value={t.pathsMap}
                  onChange={(e) => change(k, { pathsMap: e.target.value })}
                />
              </label>
            )}
            {t.mode !== 'event' && (
              <label className="block">
                {t.mode === 'input' ? 'Input' : t.mode === 'path' ? 'InputPath' : 'InputTemplate'}
                <textarea
                  rows={3}
                  value={t.text}
                  onChange={(e) => change(k, { text: e.target.value })}
                />
              </label>
            )}
            {'error' in c && <p className="error">{c.error}</p>}
            <button type="button" onClick={() => setTargets(targets.filter((_, i) => i !== k))}>
              Remove target
            </button>
          </fieldset>
        )
      })}
      <button
        type="button"
        data-testid="add-target"
        disabled={targets.length >= 5}
        onClick={() =>
          setTargets([
            ...targets,
            {
              Id: `target-${String(targets.length + 1)}`,
              Arn: '',
              mode: 'event',
              text: '',
              pathsMap: '{}',
            },
          ])
        }
      >
        Add a target
      </button>
      <ErrorText error={error} />
      <div className="toolbar">
        <button data-testid="save-rule" disabled={!valid || saving} onClick={() => void save()}>
          Save
        </button>
        <button onClick={props.onDone}>Cancel</button>
      </div>
    </section>
  )
}
