/**
 * @module
 * A profile's settings in the AWS shared config and credentials files, read as the AWS CLI reads
 * them: the config file is `AWS_CONFIG_FILE` (else `~/.aws/config`), where a profile is the
 * section `[profile NAME]` (`[default]` for the default one); the credentials file is
 * `AWS_SHARED_CREDENTIALS_FILE` (else `~/.aws/credentials`), where it is `[NAME]`. The credentials
 * themselves are resolved by the SDK's provider chain (`commands/client.ts`); this module only
 * answers what that chain does not: the profile's region, and whether a named profile exists.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

type Sections = Map<string, Map<string, string>>

/** The profile a command acts as: `--profile`, else `AWS_PROFILE`, else `default`. */
export function profileName(flag: string | undefined): string {
  return flag ?? process.env.AWS_PROFILE ?? 'default'
}

function configPath(): string {
  return process.env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config')
}

function credentialsPath(): string {
  return process.env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials')
}

/** One setting of a profile: its config file section first, then its credentials file section. */
export function profileSetting(profile: string, key: string): string | undefined {
  return configSection(profile)?.get(key) ?? readIni(credentialsPath()).get(profile)?.get(key)
}

/** Whether either file has a section for the profile. */
export function profileExists(profile: string): boolean {
  return configSection(profile) !== undefined || readIni(credentialsPath()).has(profile)
}

function configSection(profile: string): Map<string, string> | undefined {
  const sections = readIni(configPath())
  return (
    sections.get(`profile ${profile}`) ??
    (profile === 'default' ? sections.get('default') : undefined)
  )
}

/**
 * `[section]` headers and `key = value` lines; `#` and `;` start comments; indented lines (the
 * nested settings of `s3 =` and the like) are skipped. A file that cannot be read has no sections.
 */
export function readIni(path: string): Sections {
  const sections: Sections = new Map()
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return sections
  }
  let current: Map<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw)) continue
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (header) {
      const name = header[1]!.replace(/\s+/g, ' ')
      current = sections.get(name) ?? new Map<string, string>()
      sections.set(name, current)
      continue
    }
    const eq = line.indexOf('=')
    if (eq > 0 && current) current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim())
  }
  return sections
}
