import { useEffect, useState } from 'react'
import type { Identity } from '../aws/client.js'
import { listBuses, type Bus } from '../config.js'

/** The buses of the account, to choose one; `default` first. */
export function BusPicker(props: { id: Identity; value: string; onChange: (bus: string) => void }) {
  const [buses, setBuses] = useState<Bus[]>([])
  useEffect(() => {
    listBuses(props.id).then(setBuses, () => setBuses([]))
  }, [props.id])
  return (
    <label>
      Bus{' '}
      <select
        data-testid="bus"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      >
        {buses.length === 0 && <option value={props.value}>{props.value}</option>}
        {buses.map((b) => (
          <option key={b.Arn} value={b.Name}>
            {b.Name}
          </option>
        ))}
      </select>
    </label>
  )
}

export function ErrorText(props: { error: unknown }) {
  if (props.error === undefined) return null
  const e = props.error as { code?: string; message?: string }
  return (
    <p className="error" data-testid="error">
      {e.code !== undefined ? `${e.code}: ` : ''}
      {e.message ?? JSON.stringify(props.error)}
    </p>
  )
}
