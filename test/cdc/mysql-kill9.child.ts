/**
 * The MySQL source in a child process for the kill -9 test: `URL SINKFILE DELAYMS` runs a
 * source whose sink (a SQLite file) takes DELAYMS per commit, prints `streaming` once it
 * streams, and stops cleanly on SIGTERM.
 */
import { createMysqlSource } from '../../src/cdc/mysql/source.js'
import { definition, deps, SqliteCaptureSink, until } from './mysql-sink.js'

const [url, file, delay] = process.argv.slice(2)
const sink = new SqliteCaptureSink(file!)
sink.delayMs = Number(delay ?? 0)
const source = createMysqlSource(definition(url!), sink, deps(), { reconnectDelayMs: 100 })
await source.start()
await until(() => source.status().state === 'streaming', 'streaming')
process.stdout.write('streaming\n')
process.once('SIGTERM', () => {
  void source.stop().then(() => {
    sink.close()
    process.exit(0)
  })
})
