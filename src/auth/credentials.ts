/**
 * @module
 * The identities `--auth sigv4` accepts, from a file in the AWS shared credentials format: one
 * section per identity with `aws_access_key_id`, `aws_secret_access_key` and `aws_account_id`
 * (keys the AWS CLI and SDKs read too, so one file serves the server and, through
 * `AWS_SHARED_CREDENTIALS_FILE` and `--profile`, the clients), plus Junction's optional
 * `organization_id`. The file is read again when it changes, without a restart; a change that
 * does not parse is logged and the identities read before stay in force.
 */
import { readFileSync, statSync } from 'node:fs'
import { accountOfAccessKey } from './caller.js'

export type Identity = {
  profile: string
  accessKeyId: string
  secretAccessKey: string
  account: string
  organizationId?: string
}

/** How often, at most, the file's modification time is looked at. */
const CHECK_EVERY_MS = 1000

export class CredentialsFile {
  private byKey = new Map<string, Identity>()
  private version = ''
  private checkedAt = 0

  constructor(
    readonly path: string,
    private readonly log: {
      error(obj: object, msg: string): void
      info(obj: object, msg: string): void
    },
    private readonly now: () => number = Date.now,
  ) {
    // At start a file that cannot be read or parsed is fatal (the error says why).
    this.load(true)
  }

  /** The identity of an access key, reading the file again first if it has changed. */
  identity(accessKeyId: string): Identity | undefined {
    const t = this.now()
    if (t - this.checkedAt >= CHECK_EVERY_MS) {
      this.checkedAt = t
      this.load(false)
    }
    return this.byKey.get(accessKeyId)
  }

  /** The organization the file gives an account (through any of its identities). */
  organizationOf(account: string): string | undefined {
    for (const i of this.byKey.values())
      if (i.account === account && i.organizationId !== undefined) return i.organizationId
    return undefined
  }

  /** One identity's key pair in an account (the first in the file), for that account's functions. */
  keyPairFor(account: string): { accessKeyId: string; secretAccessKey: string } | undefined {
    for (const i of this.byKey.values())
      if (i.account === account)
        return { accessKeyId: i.accessKeyId, secretAccessKey: i.secretAccessKey }
    return undefined
  }

  get size(): number {
    return this.byKey.size
  }

  private load(strict: boolean): void {
    let version: string
    let text: string
    try {
      const st = statSync(this.path)
      version = `${String(st.mtimeMs)} ${String(st.size)} ${String(st.ino)}`
      if (version === this.version) return
      text = readFileSync(this.path, 'utf8')
    } catch (e) {
      if (strict)
        throw new Error(`cannot read the credentials file ${this.path}: ${(e as Error).message}`, {
          cause: e,
        })
      this.log.error(
        { file: this.path, err: e },
        'cannot read the credentials file; keeping the identities read before',
      )
      return
    }
    try {
      const identities = parseCredentials(text)
      this.byKey = new Map(identities.map((i) => [i.accessKeyId, i]))
      this.version = version
      // Never the secrets: only who is there.
      this.log.info(
        { file: this.path, identities: identities.map((i) => `${i.profile} (${i.account})`) },
        'credentials read',
      )
    } catch (e) {
      if (strict)
        throw new Error(`invalid credentials file ${this.path}: ${(e as Error).message}`, {
          cause: e,
        })
      this.version = version
      this.log.error(
        { file: this.path, reason: (e as Error).message },
        'the credentials file does not parse; keeping the identities read before',
      )
    }
  }
}

/** Reads the INI text; throws an Error naming the section and what is wrong with it. */
export function parseCredentials(text: string): Identity[] {
  const sections = new Map<string, Map<string, string>>()
  let current: Map<string, string> | undefined
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (header) {
      const name = header[1]!.replace(/^profile\s+/, '')
      if (sections.has(name))
        throw new Error(`section [${name}] appears twice (line ${String(i + 1)})`)
      current = new Map()
      sections.set(name, current)
      return
    }
    const eq = line.indexOf('=')
    if (eq <= 0 || !current)
      throw new Error(`line ${String(i + 1)} is neither [section] nor key = value`)
    current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim())
  })
  const out: Identity[] = []
  const seen = new Set<string>()
  for (const [profile, keys] of sections) {
    const accessKeyId = keys.get('aws_access_key_id')
    const secretAccessKey = keys.get('aws_secret_access_key')
    if (!accessKeyId || !secretAccessKey)
      throw new Error(`[${profile}] needs aws_access_key_id and aws_secret_access_key`)
    if (seen.has(accessKeyId))
      throw new Error(`[${profile}]: access key ${accessKeyId} is given twice`)
    seen.add(accessKeyId)
    const account = keys.get('aws_account_id') ?? accountOfAccessKey(accessKeyId)
    if (account === undefined || !/^\d{12}$/.test(account))
      throw new Error(`[${profile}] needs aws_account_id (12 digits)`)
    const organizationId = keys.get('organization_id')
    if (organizationId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(organizationId))
      throw new Error(`[${profile}]: organization_id must look like o-abcdefghij`)
    out.push({
      profile,
      accessKeyId,
      secretAccessKey,
      account,
      ...(organizationId === undefined ? {} : { organizationId }),
    })
  }
  return out
}
