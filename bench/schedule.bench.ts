/**
 * `npm run bench:schedule`: many scheduled rules due at the same second. `junction serve` (a
 * child, fresh SQLite store, sync FULL) gets `--rules N` rules (10,000) on `cron(* * * * ? *)`,
 * each with one target (a queue of its account: 300 rules per account, as a bus takes 300), then `--ticks T` minutes (2) pass on the real clock.
 * Prints the lateness of the ticks (from the scheduled second to the commit of the tick's event,
 * the server's `JunctionScheduleLatenessMs` histogram summed over the rules; percentiles are the
 * bucket bounds they fall in) and the server's CPU while it waits between ticks (from
 * /proc/PID/stat). Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { numberArg as arg } from './args.js'
import { summarizeProfile } from './cpu-profile.js'
import { SERVE_NODE_OPTIONS } from '../src/cli/node-options.js'

const count = arg('rules', 10_000)
/** `--profile`: the server writes a CPU profile, summarised at the end. */
const profile = process.argv.includes('--profile')
const ticks = arg('ticks', 2)
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const REGION = 'us-east-1'
/** A bus takes 300 rules (AWS's quota) and scheduled rules live on default buses: 300 per account. */
const RULES_PER_ACCOUNT = 300
const accountOf = (rule: number) => String(100_000_000_000 + Math.floor(rule / RULES_PER_ACCOUNT))
const auth = (account: string) =>
  `AWS4-HMAC-SHA256 Credential=${account}/20260101/${REGION}/events/aws4_request, SignedHeaders=host, Signature=x`

async function call(
  url: string,
  account: string,
  target: string,
  input: object,
  type = 'application/x-amz-json-1.1',
) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: auth(account), 'content-type': type, 'x-amz-target': target },
    body: JSON.stringify(input),
  })
  if (!res.ok) throw new Error(`${target}: ${await res.text()}`)
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
    .split(') ')[1]!
    .split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime + stime, in clock ticks (1/100 s)
}

/** Lateness bucket counts summed over every rule's series. */
async function lateness(url: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const sums = new Map<number, number>()
  for (const m of text.matchAll(
    /^JunctionScheduleLatenessMs_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm,
  )) {
    const le = m[1] === '+Inf' ? Infinity : Number(m[1])
    sums.set(le, (sums.get(le) ?? 0) + Number(m[2]))
  }
  return sums
}

function percentile(buckets: Map<number, number>, p: number): string {
  const bounds = [...buckets.keys()].sort((a, b) => a - b)
  const total = buckets.get(Infinity) ?? 0
  for (const le of bounds) if (buckets.get(le)! >= total * p) return `≤ ${String(le)} ms`
  return '?'
}

const dir = mkdtempSync(join(tmpdir(), 'junction-bench-schedule-'))
const profileDir = join(dir, 'profile')
const proc: ChildProcess = spawn(
  process.execPath,
  [
    ...SERVE_NODE_OPTIONS,
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    '--import',
    'tsx',
    join(repoRoot, 'src/cli/main.ts'),
    'serve',
    '--port',
    '0',
    '--data',
    dir,
    '--log-level',
    'info',
  ],
  { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
)
try {
  const url = await new Promise<string>((res, rej) => {
    let out = ''
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /"url":"(http:[^"]+)"/.exec(out)
      if (m) res(m[1]!)
    })
    proc.once('exit', (code) => rej(new Error(`serve exited ${String(code)}`)))
  })
  for (let a = 0; a < count; a += RULES_PER_ACCOUNT)
    await call(
      url,
      accountOf(a),
      'AmazonSQS.CreateQueue',
      { QueueName: 'ticks' },
      'application/x-amz-json-1.0',
    )
  const started = Date.now()
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const name = `tick-${String(i + j)}`
        await call(url, accountOf(i + j), 'AWSEvents.PutRule', {
          Name: name,
          ScheduleExpression: 'cron(* * * * ? *)',
        })
        await call(url, accountOf(i + j), 'AWSEvents.PutTargets', {
          Rule: name,
          Targets: [{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${accountOf(i + j)}:ticks` }],
        })
      }),
    )
  }
  console.log(
    `${String(count)} rules on cron(* * * * ? *) created in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  const pid = proc.pid!
  let idleCpu = 0
  let idleMs = 0
  for (let t = 0; t < ticks; t++) {
    // From 10 s after a minute to 5 s before the next: between ticks.
    const nextMinute = Math.ceil(Date.now() / 60_000) * 60_000
    await new Promise((r) => setTimeout(r, nextMinute + 10_000 - Date.now()))
    const c0 = cpuTicks(pid)
    const t0 = Date.now()
    await new Promise((r) => setTimeout(r, 45_000))
    idleCpu += cpuTicks(pid) - c0
    idleMs += Date.now() - t0
    const b = await lateness(url)
    console.log(
      `after tick ${String(t + 1)}: ${String(b.get(Infinity) ?? 0)} ticks fired; lateness p50 ${percentile(b, 0.5)}, p99 ${percentile(b, 0.99)}, max ${percentile(b, 1)}`,
    )
  }
  console.log(`server CPU between ticks: ${((1000 * idleCpu) / idleMs).toFixed(1)}% of one core`)
} finally {
  proc.kill('SIGTERM')
  await new Promise((r) => proc.once('exit', r))
  if (profile)
    for (const f of readdirSync(profileDir))
      console.log(summarizeProfile(join(profileDir, f), 25).join('\n'))
  rmSync(dir, { recursive: true, force: true })
}
