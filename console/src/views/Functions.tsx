/**
 * @module
 * Functions, through Lambda's REST-JSON API (signed for service `lambda`): ListFunctions, Invoke
 * with a payload (the result shown with the function's error, when it failed), and the
 * function's live log, read from the route `junction logs --follow` reads
 * (`GET /2015-03-31/functions/NAME/logs?follow=true`) with a signed fetch, as the tail is.
 */
import { useCallback, useEffect, useState } from 'react'
import { listAll, type Identity } from '../aws/client.js'
import { followLogs, invoke, rest, type Invocation } from '../aws/rest.js'
import { ErrorText } from './BusPicker.js'

type Fn = {
  FunctionName: string
  FunctionArn: string
  Runtime?: string
  Handler?: string
  Timeout?: number
  MemorySize?: number
  LastModified?: string
  State?: string
}

/** Lines of the live log kept on the page. */
const LOG_WINDOW = 500

const listFunctions = (id: Identity) =>
  listAll<Fn>(async (Marker) => {
    const out = await rest<{ Functions?: Fn[]; NextMarker?: string }>(id, 'lambda', {
      path: '/2015-03-31/functions/',
      query: Marker === undefined ? {} : { Marker },
    })
    return { items: out.Functions ?? [], next: out.NextMarker }
  })

export function Functions(props: { id: Identity }) {
  const { id } = props
  const [functions, setFunctions] = useState<Fn[] | undefined>()
  const [open, setOpen] = useState<string | undefined>()
  const [error, setError] = useState<unknown>()

  const reload = useCallback(async () => setFunctions(await listFunctions(id)), [id])
  useEffect(() => {
    reload().catch(setError)
  }, [reload])

  return (
    <section className="functions">
      <div className="toolbar">
        <button onClick={() => void reload().catch(setError)}>Refresh</button>
      </div>
      <ErrorText error={error} />
      {functions?.length === 0 && <p>No functions.</p>}
      <table className="rows">
        <thead>
          <tr>
            <th>function</th>
            <th>runtime</th>
            <th>handler</th>
            <th>timeout</th>
            <th>memory</th>
            <th>last modified</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {functions?.map((f) => (
            <tr key={f.FunctionArn} data-testid={`function-${f.FunctionName}`}>
              <td>{f.FunctionName}</td>
              <td>{f.Runtime}</td>
              <td>{f.Handler}</td>
              <td>{f.Timeout} s</td>
              <td>{f.MemorySize} MB</td>
              <td>{f.LastModified}</td>
              <td>
                <button data-testid="open-function" onClick={() => setOpen(f.FunctionName)}>
                  Open
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open !== undefined && <FunctionPanel key={open} id={id} name={open} />}
    </section>
  )
}

function FunctionPanel(props: { id: Identity; name: string }) {
  const { id, name } = props
  const [payload, setPayload] = useState('{}')
  const [result, setResult] = useState<Invocation | undefined>()
  const [busy, setBusy] = useState(false)
  const [lines, setLines] = useState<string[]>([])
  const [error, setError] = useState<unknown>()
  const [logError, setLogError] = useState<unknown>()

  useEffect(() => {
    const abort = new AbortController()
    let pending: string[] = []
    // Lines are drawn once per animation frame, however fast they come.
    let frame = 0
    const flush = () => {
      if (pending.length > 0) {
        const fresh = pending
        pending = []
        setLines((old) => old.concat(fresh).slice(-LOG_WINDOW))
      }
      frame = requestAnimationFrame(flush)
    }
    frame = requestAnimationFrame(flush)
    followLogs(id, name, (line) => pending.push(line), abort.signal).catch((e: unknown) => {
      if (!abort.signal.aborted) setLogError(e)
    })
    return () => {
      abort.abort()
      cancelAnimationFrame(frame)
    }
  }, [id, name])

  let payloadError: string | undefined
  try {
    JSON.parse(payload)
  } catch (e) {
    payloadError = `The payload is not JSON: ${(e as Error).message}`
  }
  const run = async () => {
    setBusy(true)
    setError(undefined)
    try {
      setResult(await invoke(id, name, payload))
    } catch (e) {
      setResult(undefined)
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <article className="rule" data-testid="function-panel">
      <h3>{name}</h3>
      <label className="block">
        Payload
        <textarea
          data-testid="invoke-payload"
          rows={5}
          spellCheck={false}
          value={payload}
          onChange={(e) => setPayload(e.target.value)}
        />
      </label>
      {payloadError !== undefined && <p className="error">{payloadError}</p>}
      <button
        data-testid="invoke"
        disabled={busy || payloadError !== undefined}
        onClick={() => void run()}
      >
        Invoke
      </button>
      <ErrorText error={error} />
      {result && (
        <div data-testid="invoke-result">
          <p className={result.functionError === undefined ? 'ok' : 'error'}>
            {result.functionError === undefined
              ? `Answered ${String(result.status)}.`
              : `The function failed (${result.functionError}).`}
          </p>
          <pre data-testid="invoke-payload-out">{prettyText(result.payload)}</pre>
        </div>
      )}
      <h4>Live log</h4>
      <ErrorText error={logError} />
      <pre className="log" data-testid="function-log">
        {lines.join('\n')}
      </pre>
    </article>
  )
}

function prettyText(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}
