/**
 * Runs one phase of a boto3 script with Debian's Python (`/usr/bin/python3`, boto3 1.26, not the
 * `python3` first on PATH): the input goes in as JSON on stdin, the script prints
 * `{"boto3": version, "result": …}`.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { basename } from 'node:path'

const PYTHON = '/usr/bin/python3'

export function runBoto3<T>(
  script: string,
  phase: string,
  url: string,
  env: NodeJS.ProcessEnv,
  input: unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, phase, url], { env })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${basename(script)} ${phase} exited with ${String(code)}:\n${err}`))
        return
      }
      const parsed = JSON.parse(out) as { boto3: string; result: T }
      assert.match(parsed.boto3, /^1\.26\./, 'Debian boto3 1.26')
      resolve(parsed.result)
    })
    child.stdin.end(JSON.stringify(input))
  })
}
