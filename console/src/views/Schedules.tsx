/**
 * @module
 * Schedules: the scheduled rules of every bus (ListRules' ScheduleExpression) and EventBridge
 * Scheduler's schedules (its REST-JSON API, signed for service `scheduler`: ListSchedules, then
 * GetSchedule for each one's expression, zone and dates), each with its next three fire times
 * computed in the browser by the server's own schedule code (`schedule/next-fires.ts`). What the
 * API does not tell (a rule's rate() phase) is said, not guessed.
 */
import { useCallback, useEffect, useState } from 'react'
import { listAll, type Identity } from '../aws/client.js'
import { rest } from '../aws/rest.js'
import { listBuses, listRules, type Rule } from '../config.js'
import {
  ruleNextFires,
  scheduleNextFires,
  showTime,
  type NextFires,
  type ScheduleFields,
} from '../schedule/next-fires.js'
import { ErrorText } from './BusPicker.js'

type Schedule = ScheduleFields & {
  Name: string
  GroupName: string
  Arn: string
  Target?: { Arn?: string }
}

async function listSchedules(id: Identity): Promise<Schedule[]> {
  const summaries = await listAll<{ Name: string; GroupName: string }>(async (NextToken) => {
    const out = await rest<{
      Schedules?: { Name: string; GroupName: string }[]
      NextToken?: string
    }>(id, 'scheduler', { path: '/schedules', query: NextToken === undefined ? {} : { NextToken } })
    return { items: out.Schedules ?? [], next: out.NextToken }
  })
  return Promise.all(
    summaries.map((s) =>
      rest<Schedule>(id, 'scheduler', {
        path: `/schedules/${encodeURIComponent(s.Name)}`,
        query: { groupName: s.GroupName },
      }),
    ),
  )
}

export function Schedules(props: { id: Identity }) {
  const { id } = props
  const [rules, setRules] = useState<(Rule & { bus: string })[] | undefined>()
  const [schedules, setSchedules] = useState<Schedule[] | undefined>()
  const [now, setNow] = useState(Date.now)
  const [error, setError] = useState<unknown>()

  const reload = useCallback(async () => {
    const buses = await listBuses(id)
    const all = await Promise.all(
      buses.map(async (b) =>
        (await listRules(id, b.Name))
          .filter((r) => r.ScheduleExpression !== undefined && r.ScheduleExpression !== '')
          .map((r) => ({ ...r, bus: b.Name })),
      ),
    )
    setRules(all.flat())
    setSchedules(await listSchedules(id))
    setNow(Date.now())
  }, [id])
  useEffect(() => {
    reload().catch(setError)
    // Times pass: the next fires are worked out again every few seconds.
    const timer = setInterval(() => setNow(Date.now()), 5000)
    return () => clearInterval(timer)
  }, [reload])

  return (
    <section className="schedules">
      <div className="toolbar">
        <button onClick={() => void reload().catch(setError)}>Refresh</button>
        <span>Times are computed in this browser from what the API returns.</span>
      </div>
      <ErrorText error={error} />
      <h2>Scheduled rules</h2>
      {rules?.length === 0 && <p>No scheduled rules.</p>}
      <table className="rows">
        <thead>
          <tr>
            <th>rule</th>
            <th>bus</th>
            <th>expression (UTC)</th>
            <th>state</th>
            <th>next fires</th>
          </tr>
        </thead>
        <tbody>
          {rules?.map((r) => (
            <tr key={r.Arn} data-testid={`scheduled-rule-${r.Name}`}>
              <td>{r.Name}</td>
              <td>{r.bus}</td>
              <td>
                <code>{r.ScheduleExpression}</code>
              </td>
              <td>{r.State}</td>
              <td>
                <Fires fires={ruleNextFires(r.ScheduleExpression!, now)} />
                {r.State === 'DISABLED' && <p>Disabled: it fires only once enabled.</p>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Scheduler schedules</h2>
      {schedules?.length === 0 && <p>No schedules.</p>}
      <table className="rows">
        <thead>
          <tr>
            <th>schedule</th>
            <th>group</th>
            <th>expression</th>
            <th>state</th>
            <th>target</th>
            <th>next fires</th>
          </tr>
        </thead>
        <tbody>
          {schedules?.map((s) => (
            <tr key={s.Arn} data-testid={`schedule-${s.Name}`}>
              <td>{s.Name}</td>
              <td>{s.GroupName}</td>
              <td>
                <code>{s.ScheduleExpression}</code>
                {s.ScheduleExpressionTimezone !== undefined &&
                  s.ScheduleExpressionTimezone !== 'UTC' && <> in {s.ScheduleExpressionTimezone}</>}
              </td>
              <td>{s.State}</td>
              <td>
                <code>{s.Target?.Arn}</code>
              </td>
              <td>
                <Fires fires={scheduleNextFires(s, now)} timeZone={s.ScheduleExpressionTimezone} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Fires(props: { fires: NextFires; timeZone?: string | undefined }) {
  return (
    <div data-testid="next-fires">
      {props.fires.times.length > 0 && (
        <ol className="fires">
          {props.fires.times.map((t) => (
            <li key={t}>{showTime(t, props.timeZone)}</li>
          ))}
        </ol>
      )}
      {props.fires.note !== undefined && <p className="note">{props.fires.note}</p>}
    </div>
  )
}
