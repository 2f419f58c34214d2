/**
 * The credentials file of `--auth sigv4`: the AWS shared credentials format with Junction's
 * account and organization keys, refused with a reason when it cannot serve, and read again
 * on change, keeping the identities in force when a change does not parse.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { CredentialsFile, parseCredentials } from '../../src/auth/credentials.js'

describe('parseCredentials', () => {
  test('sections, comments, profile prefixes, and accounts from the file or the key', () => {
    const ids = parseCredentials(
      [
        '# a comment',
        '[default]',
        'aws_access_key_id=111111111111',
        'aws_secret_access_key = s1',
        '; another',
        '[profile central]',
        'AWS_ACCESS_KEY_ID = AKIDCENTRAL',
        'aws_secret_access_key = s2 ',
        'aws_account_id = 222222222222',
        'organization_id = o-abcdefghij',
        'region = eu-west-1',
      ].join('\r\n'),
    )
    assert.deepEqual(ids, [
      {
        profile: 'default',
        accessKeyId: '111111111111',
        secretAccessKey: 's1',
        account: '111111111111',
      },
      {
        profile: 'central',
        accessKeyId: 'AKIDCENTRAL',
        secretAccessKey: 's2',
        account: '222222222222',
        organizationId: 'o-abcdefghij',
      },
    ])
  })

  test('what cannot serve is refused, saying where', () => {
    const cases: [string, RegExp][] = [
      ['[a]\naws_access_key_id = K', /\[a\] needs aws_access_key_id and aws_secret_access_key/],
      ['[a]\naws_access_key_id = K\naws_secret_access_key = s', /\[a\] needs aws_account_id/],
      ['[a]\naws_access_key_id = K\naws_secret_access_key = s\naws_account_id = 12', /12 digits/],
      ['key = value', /line 1 is neither/],
      ['[a]\n[a]', /section \[a\] appears twice/],
      [
        '[a]\naws_access_key_id = 111111111111\naws_secret_access_key = s\n[b]\naws_access_key_id = 111111111111\naws_secret_access_key = t',
        /access key 111111111111 is given twice/,
      ],
      [
        '[a]\naws_access_key_id = 111111111111\naws_secret_access_key = s\norganization_id = org1',
        /organization_id must look like o-/,
      ],
    ]
    for (const [text, error] of cases) assert.throws(() => parseCredentials(text), error, text)
  })
})

describe('CredentialsFile', () => {
  test('is read again when it changes; a change that does not parse keeps the identities before', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'junction-creds-')), 'credentials')
    writeFileSync(file, '[a]\naws_access_key_id = 111111111111\naws_secret_access_key = s1\n')
    const errors: string[] = []
    let now = 0
    const creds = new CredentialsFile(
      file,
      { error: (_o, msg) => errors.push(msg), info: () => undefined },
      () => now,
    )
    assert.equal(creds.identity('111111111111')?.secretAccessKey, 's1')
    writeFileSync(
      file,
      '[a]\naws_access_key_id = 111111111111\naws_secret_access_key = s2 changed\n',
    )
    now += 1000
    assert.equal(creds.identity('111111111111')?.secretAccessKey, 's2 changed')
    writeFileSync(file, '[a]\nthis is not a credentials file at all\n')
    now += 1000
    assert.equal(creds.identity('111111111111')?.secretAccessKey, 's2 changed')
    assert.equal(errors.length, 1)
    assert.match(errors[0]!, /does not parse; keeping the identities read before/)
  })

  test('a file that cannot be read or parsed at start stops the start', () => {
    const log = { error: () => undefined, info: () => undefined }
    assert.throws(
      () => new CredentialsFile('/nonexistent/credentials', log),
      /cannot read the credentials file/,
    )
    const file = join(mkdtempSync(join(tmpdir(), 'junction-creds-')), 'credentials')
    writeFileSync(file, 'nonsense')
    assert.throws(() => new CredentialsFile(file, log), /invalid credentials file .*line 1/)
  })
})
