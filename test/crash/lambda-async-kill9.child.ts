/**
 * The bus in a child process for the kill -9 test of asynchronous invocations.
 * `enqueue DIR N`: queues N invocations one after another, printing `committed <id>` as each
 * `enqueue` resolves; the runner never answers, so none finishes. `drain DIR`: the runner
 * answers at once and prints `invoked <id>` for each invocation it runs.
 */
import { createBus } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import type { InvokeOutcome } from '../../src/functions/runner.js'
import { functionRecord, ScriptedRunner, TestDirectory } from '../functions/async-helpers.js'

const [mode, dataDir, count] = process.argv.slice(2)
const directory = new TestDirectory()
const fn = directory.add(functionRecord('durable'))
const runner = new ScriptedRunner(Date.now)
runner.script =
  mode === 'drain'
    ? (call) => {
        process.stdout.write(`invoked ${call.request.requestId}\n`)
        return { kind: 'ok', payload: Buffer.from('null'), durationMs: 0 }
      }
    : () => new Promise<InvokeOutcome>(() => undefined)
const bus = await createBus({
  ...DEFAULTS,
  store: 'sqlite',
  dataDir: dataDir!,
  functions: { directory, runner },
})
process.stdout.write('ready\n')
if (mode === 'enqueue') {
  for (let i = 0; i < Number(count); i++) {
    const id = `req-${String(i).padStart(5, '0')}`
    await bus.asyncInvoker!.enqueue(fn, JSON.stringify({ i }), id)
    process.stdout.write(`committed ${id}\n`)
  }
}
// Runs until killed.
setInterval(() => undefined, 60_000)
