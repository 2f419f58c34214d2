/**
 * @module
 * The flow map: the account's buses, their rules and the rules' targets in three columns, drawn
 * from the live configuration; targets that are buses of another account or region are marked
 * as crossings. Edge labels are counts from `/metrics` (TriggeredRules on bus → rule, Invocations
 * on rule → target); a rule with FailedInvocations has its edges drawn as failing.
 */
import { useCallback, useEffect, useState } from 'react'
import { metrics, type Identity, type MetricSample } from '../aws/client.js'
import { listBuses, parseArn, rulesWithTargets, type RuleWithTargets } from '../config.js'
import { ErrorText } from './BusPicker.js'

type Graph = {
  buses: { name: string; arn: string; rules: RuleWithTargets[] }[]
  samples: MetricSample[]
}

const COL = [20, 380, 740]
const NODE_W = 260
const NODE_H = 44
const GAP = 14

export function FlowMap(props: { id: Identity }) {
  const { id } = props
  const [graph, setGraph] = useState<Graph | undefined>()
  const [error, setError] = useState<unknown>()

  const load = useCallback(async () => {
    const buses = await listBuses(id)
    const withRules = await Promise.all(
      buses.map(async (b) => ({
        name: b.Name,
        arn: b.Arn,
        rules: await rulesWithTargets(id, b.Name),
      })),
    )
    const samples = await metrics(id).catch(() => [])
    setGraph({ buses: withRules, samples })
  }, [id])
  useEffect(() => {
    load().catch(setError)
    // Counts move: the map is read again every few seconds.
    const timer = setInterval(() => void load().catch(setError), 5000)
    return () => clearInterval(timer)
  }, [load])

  if (!graph) return <ErrorText error={error} />
  const count = (name: string, bus: string, rule: string) =>
    graph.samples
      .filter((s) => s.name === name && s.labels.EventBusName === bus && s.labels.RuleName === rule)
      .reduce((t, s) => t + s.value, 0)

  // Layout: one row per target (or per rule without targets), buses centred on their rules.
  type Box = {
    x: number
    y: number
    label: string
    sub: string
    kind: string
    cross: boolean
    failing: boolean
  }
  const busBoxes: Box[] = []
  const ruleBoxes: Box[] = []
  const targetBoxes: Box[] = []
  const edges: { from: Box; to: Box; label: string; failing: boolean; cross: boolean }[] = []
  let row = 0
  const yOf = (r: number) => 20 + r * (NODE_H + GAP)
  for (const bus of graph.buses) {
    const first = row
    const myRules: Box[] = []
    for (const rule of bus.rules) {
      const ruleFirst = row
      const failed = count('FailedInvocations', bus.name, rule.Name)
      const ruleBox: Box = {
        x: COL[1]!,
        y: 0,
        label: rule.Name,
        sub: rule.State === 'ENABLED' ? (rule.ScheduleExpression ?? 'pattern') : 'disabled',
        kind: 'rule',
        cross: false,
        failing: failed > 0,
      }
      for (const t of rule.targets) {
        const arn = parseArn(t.Arn)
        const cross =
          arn.service === 'events' && (arn.account !== id.account || arn.region !== id.region)
        const box: Box = {
          x: COL[2]!,
          y: yOf(row++),
          label: `${arn.service}: ${arn.resource.replace(/^event-bus\//, 'bus ')}`,
          sub: cross ? `account ${arn.account}, ${arn.region}` : t.Id,
          kind: 'target',
          cross,
          failing: failed > 0,
        }
        targetBoxes.push(box)
        edges.push({
          from: ruleBox,
          to: box,
          label: `${String(count('Invocations', bus.name, rule.Name))}${failed > 0 ? ` (${String(failed)} failed)` : ''}`,
          failing: failed > 0,
          cross,
        })
      }
      if (rule.targets.length === 0) row++
      ruleBox.y = (yOf(ruleFirst) + yOf(row - 1)) / 2
      ruleBoxes.push(ruleBox)
      myRules.push(ruleBox)
    }
    if (bus.rules.length === 0) row++
    const busBox: Box = {
      x: COL[0]!,
      y: (yOf(first) + yOf(row - 1)) / 2,
      label: `bus ${bus.name}`,
      sub: `${id.account ?? ''} ${id.region}`,
      kind: 'bus',
      cross: false,
      failing: false,
    }
    busBoxes.push(busBox)
    bus.rules.forEach((r, k) =>
      edges.push({
        from: busBox,
        to: myRules[k]!,
        label: String(count('TriggeredRules', bus.name, r.Name)),
        failing: false,
        cross: false,
      }),
    )
    row++ // a gap between buses
  }
  const height = yOf(row) + 20
  const all = [...busBoxes, ...ruleBoxes, ...targetBoxes]
  return (
    <section className="flow">
      <ErrorText error={error} />
      <p>
        {graph.buses.length} buses, {ruleBoxes.length} rules, {targetBoxes.length} targets;{' '}
        <span className="legend cross">crossing to another account or region</span>{' '}
        <span className="legend failing">failing</span>
      </p>
      <svg data-testid="flow-map" width={COL[2]! + NODE_W + 20} height={height} role="img">
        {edges.map((e, k) => {
          const x1 = e.from.x + NODE_W
          const y1 = e.from.y + NODE_H / 2
          const x2 = e.to.x
          const y2 = e.to.y + NODE_H / 2
          return (
            <g
              key={k}
              className={`edge${e.cross ? ' cross' : ''}${e.failing ? ' failing' : ''}`}
              data-testid={e.cross ? 'cross-edge' : undefined}
              data-edge={`${e.from.label} -> ${e.to.label}`}
            >
              <path
                d={`M${String(x1)},${String(y1)} C${String(x1 + 30)},${String(y1)} ${String(x2 - 30)},${String(y2)} ${String(x2)},${String(y2)}`}
              />
              {/* Next to the arrow's end, where the edges no longer overlap. */}
              <text x={x2 - 6} y={y2 - 5} textAnchor="end">
                {e.label}
              </text>
            </g>
          )
        })}
        {all.map((b, k) => (
          <g
            key={k}
            className={`node ${b.kind}${b.cross ? ' cross' : ''}${b.failing ? ' failing' : ''}`}
            transform={`translate(${String(b.x)},${String(b.y)})`}
          >
            <rect width={NODE_W} height={NODE_H} rx={6} />
            <text x={10} y={18}>
              {b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label}
            </text>
            <text x={10} y={35} className="sub">
              {b.sub}
            </text>
          </g>
        ))}
      </svg>
    </section>
  )
}
