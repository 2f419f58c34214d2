/**
 * @module
 * `npm run example:anycompany [-- --once] [-- --trickle SECONDS] [-- --page-port N] [-- --keep]`:
 * the founding brief's pipeline across four accounts, on one Junction, end to end. Its data,
 * server log and report live in a temporary directory, removed at a clean exit unless `--keep`.
 *
 * 1. Starts Junction with `--auth sigv4` and a manual clock, and a credentials file with a key
 *    pair for each account; deploys a.yaml, central.yaml, b.yaml and c.yaml with `junction
 *    deploy`, each as its account.
 * 2. Service A publishes a fixed batch of NEW_WIDGET events, some invalid on purpose.
 * 3. Waits until service B has counted the valid ones, C's archive holds them, and central's
 *    invalid-widgets queue holds the others with their reasons; prints all of it.
 * 4. Moves the clock one minute (`junction clock advance 1m`), so C's scheduled function writes
 *    its report (widgets per warehouse per day, SQL over the archive); prints it.
 * 5. With `--once`, stops there (exit 0, or 1 if anything did not add up). Otherwise prints the
 *    URL of B's live page and keeps going until Ctrl-C: A publishes another widget every
 *    `--trickle` seconds (default 3; 0: none), and the clock moves a minute every 10 widgets,
 *    with C's new report printed.
 */
import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ACCOUNTS } from './lib/accounts.js'
import { startPipeline } from './lib/pipeline.js'
import { firstBatch, live } from './lib/story.js'

const say = (line = '') => process.stdout.write(`${line}\n`)

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      trickle: { type: 'string', default: '3' },
      'page-port': { type: 'string', default: '0' },
      keep: { type: 'boolean', default: false },
    },
  })
  const trickle = Number(values.trickle)
  const pagePort = Number(values['page-port'])
  if (!Number.isFinite(trickle) || trickle < 0)
    throw new Error(`--trickle must be seconds >= 0, not ${values.trickle}`)
  if (!Number.isInteger(pagePort) || pagePort < 0 || pagePort > 65535)
    throw new Error(`--page-port must be a port number, not ${values['page-port']}`)

  say('AnyCompany: one Junction, four accounts')
  const p = await startPipeline({ say, pagePort })
  let stopping = false
  const shutdown = async (code: number) => {
    if (stopping) return
    stopping = true
    await p.stop()
    // Kept when something failed (its log says what), or when asked.
    if (code === 0 && !values.keep) rmSync(p.dir, { recursive: true, force: true })
    else say(`data, logs and report kept in ${p.dir}`)
    process.exit(code)
  }
  process.on('SIGINT', () => void shutdown(0))
  process.on('SIGTERM', () => void shutdown(0))
  try {
    await firstBatch(p, say)
  } catch (e) {
    say(`\nFAILED: ${e instanceof Error ? e.message : String(e)}\n(server log: ${p.logFile})`)
    await shutdown(1)
    return 1
  }
  if (values.once) {
    await shutdown(0)
    return 0
  }
  say()
  say(`B's live page: ${p.serviceB.url}`)
  say(
    `Junction: ${p.server.url}  credentials: ${p.credentialsFile} (profiles ${Object.keys(ACCOUNTS).join(', ')})`,
  )
  say(
    trickle > 0
      ? `Service A publishes a widget every ${String(trickle)} s. Ctrl-C to stop.`
      : 'Ctrl-C to stop.',
  )
  if (trickle > 0) void live(p, trickle, say)
  return new Promise<number>(() => undefined)
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exit(1)
  },
)
