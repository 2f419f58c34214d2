/**
 * The real AWS CLI v2 (`/usr/bin/aws`) and `junction clock` against a server process, for the
 * end-to-end tests: `aws(…)` runs a command, `ok(…)` asserts it succeeded and parses its JSON,
 * `clock(…)` runs `junction clock` with the endpoint in AWS_ENDPOINT_URL, as a user would.
 * The server's URL is read at each call, so a test can restart the server.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const AWS = '/usr/bin/aws'
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export type Run = { code: number | string; stdout: string; stderr: string }

export function awsCli(url: () => string, env: () => NodeJS.ProcessEnv) {
  const run = (file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> =>
    new Promise((done) => {
      execFile(
        file,
        args,
        { env: { ...env(), ...extraEnv }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          done({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr })
        },
      )
    })
  const aws = (...args: string[]) =>
    run(AWS, ['--endpoint-url', url(), '--output', 'json', ...args])
  async function ok<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const r = await aws(...args)
    assert.equal(r.code, 0, `aws ${args.join(' ')}\n${r.stderr}`)
    return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T
  }
  const clock = (...args: string[]) =>
    run(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'clock', ...args],
      {
        AWS_ENDPOINT_URL: url(),
      },
    )
  return { run, aws, ok, clock }
}
