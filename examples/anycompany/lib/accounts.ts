/**
 * @module
 * AnyCompany's four accounts, and the credentials file the example generates for them: one
 * profile per account in the AWS shared credentials format, which the server reads with
 * `--auth sigv4` (`aws_account_id` says whose keys they are) and the clients read as any AWS
 * credentials file (`AWS_SHARED_CREDENTIALS_FILE`, `--profile central`).
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'

export type AccountName = 'a' | 'central' | 'b' | 'c'

export type Account = {
  name: AccountName
  id: string
  /** What the account runs, for what the example prints. */
  role: string
  template: string
  stack: string
}

export const ACCOUNTS: Record<AccountName, Account> = {
  a: { name: 'a', id: '111111111111', role: 'service A', template: 'a.yaml', stack: 'service-a' },
  central: {
    name: 'central',
    id: '222222222222',
    role: 'central',
    template: 'central.yaml',
    stack: 'central',
  },
  b: { name: 'b', id: '333333333333', role: 'service B', template: 'b.yaml', stack: 'service-b' },
  c: { name: 'c', id: '444444444444', role: 'service C', template: 'c.yaml', stack: 'service-c' },
}

export const REGION = 'us-east-1'

export type Keys = { accessKeyId: string; secretAccessKey: string }

/** Fresh keys for every account, written to `path` (mode 600); the keys by account. */
export function writeCredentials(path: string): Record<AccountName, Keys> {
  const keys = {} as Record<AccountName, Keys>
  const lines: string[] = []
  for (const account of Object.values(ACCOUNTS)) {
    const k = {
      accessKeyId:
        `AKIA${account.name.toUpperCase().padEnd(7, 'X')}${randomBytes(5).toString('hex').toUpperCase()}`.slice(
          0,
          20,
        ),
      secretAccessKey: randomBytes(30).toString('base64'),
    }
    keys[account.name] = k
    lines.push(
      `[${account.name}]`,
      `aws_access_key_id = ${k.accessKeyId}`,
      `aws_secret_access_key = ${k.secretAccessKey}`,
      `aws_account_id = ${account.id}`,
      '',
    )
  }
  writeFileSync(path, lines.join('\n'), { mode: 0o600 })
  return keys
}

const LEAKS = ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_EVENTBRIDGE']

/** The environment a client acting as `account` runs with (the AWS SDKs and CLI read it). */
export function clientEnv(endpoint: string, keys: Keys): NodeJS.ProcessEnv {
  // Another profile, session or per-service endpoint of the caller's shell must not leak in.
  const rest = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !LEAKS.includes(name)),
  )
  return {
    ...rest,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: REGION,
  }
}
