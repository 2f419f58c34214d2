/**
 * @module
 * The console's frame: sign-in, then the views (flow map, buses and rules, sandbox, live tail,
 * queues, archives and replays, schedules, functions, sources, metrics) for the active key's
 * account and the chosen region. The view is in the address
 * (/console/<view>), so a reload stays where it was.
 */
import { useEffect, useState } from 'react'
import { accountOf, type Identity } from './aws/client.js'
import { clearSession, loadSession, saveSession, type Session } from './session.js'
import { Archives } from './views/Archives.js'
import { FlowMap } from './views/FlowMap.js'
import { Functions } from './views/Functions.js'
import { Metrics } from './views/Metrics.js'
import { Queues } from './views/Queues.js'
import { Rules } from './views/Rules.js'
import { Sandbox } from './views/Sandbox.js'
import { Schedules } from './views/Schedules.js'
import { SignIn } from './views/SignIn.js'
import { Sources } from './views/Sources.js'
import { Tail } from './views/Tail.js'

const VIEWS = [
  ['flow', 'Flow map'],
  ['rules', 'Buses and rules'],
  ['sandbox', 'Sandbox'],
  ['tail', 'Live tail'],
  ['queues', 'Queues'],
  ['archives', 'Archives and replays'],
  ['schedules', 'Schedules'],
  ['functions', 'Functions'],
  ['sources', 'Sources'],
  ['metrics', 'Metrics'],
] as const
export type View = (typeof VIEWS)[number][0]

function viewOfPath(): View {
  const name = location.pathname.replace(/^\/console\/?/, '').split('/')[0]
  return VIEWS.find(([v]) => v === name)?.[0] ?? 'rules'
}

export function App() {
  const [session, setSession] = useState<Session>(loadSession)
  const [view, setView] = useState<View>(viewOfPath)
  const [adding, setAdding] = useState(false)
  /** An event handed from the tail to the sandbox. */
  const [sandboxEvent, setSandboxEvent] = useState<string | undefined>()

  useEffect(() => {
    const onPop = () => setView(viewOfPath())
    addEventListener('popstate', onPop)
    return () => removeEventListener('popstate', onPop)
  }, [])

  const go = (v: View) => {
    history.pushState(null, '', `/console/${v}`)
    setView(v)
  }
  const update = (s: Session) => {
    saveSession(s)
    setSession(s)
  }
  const identity = session.identities[session.active]

  if (!identity || adding)
    return (
      <SignIn
        onCancel={identity ? () => setAdding(false) : undefined}
        onSignIn={async (id) => {
          const account = await accountOf(id)
          const identities = [...session.identities, { ...id, account }]
          update({ identities, active: identities.length - 1 })
          setAdding(false)
        }}
      />
    )

  const setRegion = (region: string) => {
    const identities = session.identities.map((i, k) =>
      k === session.active ? { ...i, region } : i,
    )
    update({ ...session, identities })
  }
  return (
    <div className="app">
      <header>
        <strong>Junction</strong>
        <nav>
          {VIEWS.map(([v, label]) => (
            <button
              key={v}
              data-testid={`nav-${v}`}
              className={v === view ? 'active' : ''}
              onClick={() => go(v)}
            >
              {label}
            </button>
          ))}
        </nav>
        <span className="who">
          <label>
            Account{' '}
            <select
              data-testid="account"
              value={session.active}
              onChange={(e) => update({ ...session, active: Number(e.target.value) })}
            >
              {session.identities.map((i, k) => (
                <option key={k} value={k}>
                  {i.account ?? '?'} ({i.accessKeyId || 'unsigned'})
                </option>
              ))}
            </select>
          </label>{' '}
          <button onClick={() => setAdding(true)}>Add a key</button>{' '}
          <label>
            Region <RegionInput value={identity.region} onChange={setRegion} />
          </label>{' '}
          <button
            data-testid="sign-out"
            onClick={() => {
              clearSession()
              setSession({ identities: [], active: 0 })
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main key={`${String(session.active)}/${identity.region}`}>
        {view === 'flow' && <FlowMap id={identity} />}
        {view === 'rules' && <Rules id={identity} />}
        {view === 'queues' && <Queues id={identity} />}
        {view === 'archives' && <Archives id={identity} />}
        {view === 'schedules' && <Schedules id={identity} />}
        {view === 'functions' && <Functions id={identity} />}
        {view === 'sources' && <Sources id={identity} />}
        {view === 'metrics' && <Metrics id={identity} />}
        {view === 'sandbox' && <Sandbox id={identity} initialEvent={sandboxEvent} />}
        {view === 'tail' && (
          <Tail
            id={identity}
            onOpenInSandbox={(e) => {
              setSandboxEvent(e)
              go('sandbox')
            }}
          />
        )}
      </main>
    </div>
  )
}

function RegionInput(props: { value: string; onChange: (r: string) => void }) {
  const [text, setText] = useState(props.value)
  return (
    <input
      data-testid="region"
      size={12}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={() => {
        if (text !== props.value) props.onChange(text)
      }}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && text !== props.value) props.onChange(text)
      }}
    />
  )
}

export type { Identity }
