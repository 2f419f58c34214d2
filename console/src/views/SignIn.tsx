/**
 * @module
 * Sign-in: the endpoint (this page's origin), an access key and its secret, and a region. The
 * key is checked with one signed call (ListEventBuses) before it is kept, in this tab only.
 */
import { useState } from 'react'
import { ApiError, type Identity } from '../aws/client.js'

export function SignIn(props: {
  onSignIn: (id: Identity) => Promise<void>
  onCancel?: (() => void) | undefined
}) {
  const [accessKeyId, setKey] = useState('')
  const [secretAccessKey, setSecret] = useState('')
  const [region, setRegion] = useState('us-east-1')
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  return (
    <form
      className="sign-in"
      onSubmit={(e) => {
        e.preventDefault()
        setBusy(true)
        setError(undefined)
        props
          .onSignIn({ endpoint: location.origin, accessKeyId, secretAccessKey, region })
          .catch((err: unknown) => {
            setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err))
          })
          .finally(() => setBusy(false))
      }}
    >
      <h1>Junction console</h1>
      <p>
        Requests are signed in this tab with your key, as the AWS CLI signs them; the key is kept in
        this tab only. With <code>--auth off</code> any key (or none) will do.
      </p>
      <label>
        Endpoint <input value={location.origin} readOnly />
      </label>
      <label>
        Access key id{' '}
        <input
          data-testid="access-key"
          value={accessKeyId}
          onChange={(e) => setKey(e.target.value)}
        />
      </label>
      <label>
        Secret access key{' '}
        <input
          data-testid="secret-key"
          type="password"
          value={secretAccessKey}
          onChange={(e) => setSecret(e.target.value)}
        />
      </label>
      <label>
        Region{' '}
        <input
          data-testid="sign-in-region"
          value={region}
          onChange={(e) => setRegion(e.target.value)}
        />
      </label>
      {error !== undefined && (
        <p className="error" data-testid="sign-in-error">
          {error}
        </p>
      )}
      <button data-testid="sign-in" disabled={busy}>
        Sign in
      </button>{' '}
      {props.onCancel && (
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      )}
    </form>
  )
}
