#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * @module
 * The `junction` command line.
 */
import { Command, Option } from 'commander'
import { readFileSync } from 'node:fs'
import { clock, type ClockFlags } from './commands/clock.js'
import { explainAccess, type ExplainAccessOptions } from './commands/explain-access.js'
import { query, type QueryFlags } from './commands/query.js'
import { replay, type ReplayFlags } from './commands/replay.js'
import { migrate, type MigrateFlags } from './commands/migrate.js'
import { serve, type ServeFlags } from './commands/serve.js'
import { tail, type TailFlags } from './commands/tail.js'
import { logs, type LogsFlags } from './commands/logs.js'
import { deploy, type DeployFlags } from './commands/deploy.js'
import { stacks, type StacksFlags } from './commands/stacks.js'
import { sinksCommand } from './commands/sinks-command.js'
import {
  sourcesAdd,
  sourcesList,
  sourcesRemove,
  type SourcesAddFlags,
  type SourcesRemoveFlags,
} from './commands/sources.js'
import { testPattern } from './commands/test-pattern.js'

const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string }

const program = new Command()
program
  .name('junction')
  .description('A self-hosted event bus that speaks the Amazon EventBridge API')
  .version(version, '-V, --version', 'print the version')
  // `--version` after a subcommand is the subcommand's (`junction sinks add --version PATH`).
  .enablePositionalOptions()

/**
 * The options of every command that talks to a running server (see commands/client.ts), and
 * `--account` for those that had it: it acts as that account on a server with `--auth off`.
 */
function clientOptions(c: Command, account?: string): Command {
  c.option(
    '--endpoint-url <url>',
    'the server (else AWS_ENDPOINT_URL_EVENTBRIDGE, or _LAMBDA for logs; AWS_ENDPOINT_URL; JUNCTION_ENDPOINT; http://127.0.0.1:4010)',
  )
    .option('--profile <name>', 'sign as this profile of the AWS credentials and config files')
    .option(
      '--region <region>',
      "region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1)",
    )
  if (account !== undefined)
    c.option(
      '--account <id>',
      `${account} on a server running --auth off (the request goes unsigned; a server checking signatures refuses it)`,
    )
  return c
}

program
  .command('test-pattern')
  .description('Test an event against an event pattern (exit 0: match, 1: no match, 2: invalid)')
  .requiredOption('--pattern <json>', 'the event pattern, as JSON text or @file')
  .requiredOption('--event <json>', 'the event, as JSON text or @file')
  .option('--explain', 'say which field decided, and why')
  .action((options: { pattern: string; event: string; explain?: boolean }) => {
    process.exitCode = testPattern(options)
  })

program
  .command('explain-access')
  .description(
    'Would this bus policy let an account put events, and why? (exit 0: allowed, 1: denied, 2: invalid)',
  )
  .requiredOption('--policy <json>', 'the policy document, as JSON text or @file')
  .requiredOption('--principal <account>', 'the calling account (12 digits)')
  .option('--organization <id>', "the caller's organization, for aws:PrincipalOrgID")
  .option('--action <action>', 'the action (events:PutEvents)')
  .option('--resource <arn>', 'the bus ARN, for the message')
  .action((options: ExplainAccessOptions) => {
    process.exitCode = explainAccess(options)
  })

program
  .command('serve')
  .description('Run the event bus (AWS EventBridge API on POST /, plus /health, /metrics, /tail)')
  .option('--host <host>', 'address to listen on (JUNCTION_HOST; default 127.0.0.1)')
  .option('--port <port>', 'port to listen on, 0 for any free port (JUNCTION_PORT; default 4010)')
  .option('--data <dir>', 'directory of the embedded store (JUNCTION_DATA; default ./.junction)')
  .option(
    '--store <kind>',
    'sqlite (durable, default), memory, or nats (one node of several sharing NATS JetStream) (JUNCTION_STORE)',
  )
  .option(
    '--nats-url <urls>',
    'with --store nats: the NATS servers, comma-separated (JUNCTION_NATS_URL)',
  )
  .option(
    '--nats-replicas <n>',
    'with --store nats: copies of every stream and bucket, 3 on a three-server cluster (JUNCTION_NATS_REPLICAS; default 1)',
  )
  .option(
    '--nats-ack-wait <duration>',
    "with --store nats: a dead node's delivery jobs go to another node after this long, e.g. 30s (JUNCTION_NATS_ACK_WAIT; default 30s)",
  )
  .option('--region <region>', 'region for unsigned requests (JUNCTION_REGION; default us-east-1)')
  .option(
    '--account <id>',
    'account for unsigned requests and unknown keys (JUNCTION_ACCOUNT; default 000000000000)',
  )
  .option(
    '--max-request-size <bytes>',
    'PutEvents entries size limit (JUNCTION_MAX_REQUEST_SIZE; default 1048576)',
  )
  .option(
    '--sync <mode>',
    'full (survives power loss, default) or normal (survives a crash) (JUNCTION_SYNC)',
  )
  .option(
    '--queue-window <messages>',
    'messages per queue held in memory, the rest paged from the store (JUNCTION_QUEUE_WINDOW; default 10000)',
  )
  .option(
    '--delivery-window <jobs>',
    'most delivery jobs held in memory; the rest wait in the store (JUNCTION_DELIVERY_WINDOW; default 10000)',
  )
  .option(
    '--clock <kind>',
    'system, or manual: time stands still until `junction clock advance` (JUNCTION_CLOCK; default system)',
  )
  .option(
    '--schedule-grace <duration>',
    'ticks of scheduled rules missed while down are fired at start if this recent, e.g. 5m (JUNCTION_SCHEDULE_GRACE; default 5m)',
  )
  .option(
    '--auth <mode>',
    'off (any credentials, default) or sigv4 (every request signed by a key of --credentials) (JUNCTION_AUTH)',
  )
  .option(
    '--credentials <file>',
    'with --auth sigv4: identities in the AWS shared credentials format, re-read on change (JUNCTION_CREDENTIALS)',
  )
  .option('--allow-manual-clock', 'allow --clock manual together with --auth sigv4')
  .option('--log-level <level>', 'pino log level (JUNCTION_LOG_LEVEL; default info)')
  .option(
    '--function-concurrency <n>',
    'function instances running at once, all functions together (JUNCTION_FUNCTION_CONCURRENCY; default 64)',
  )
  .option(
    '--function-idle <duration>',
    'an idle function instance stops after this long, e.g. 5m (JUNCTION_FUNCTION_IDLE; default 5m)',
  )
  .option(
    '--heap-growth <percent>',
    'how far the JavaScript heap may grow past its live set before a full collection; 0 for V8 own factor (JUNCTION_HEAP_GROWTH; default 50)',
  )
  .action(async (options: ServeFlags) => {
    await serve(options)
  })

clientOptions(
  program
    .command('tail')
    .description('Print the events ingested on a bus as they arrive, with the rules each matched')
    .requiredOption('--bus <name>', 'bus name or ARN')
    .option('--pattern <json>', 'only events matching this pattern (JSON text or @file)'),
  'the bus of this account',
)
  .addOption(new Option('--endpoint <url>', 'the older name of --endpoint-url').hideHelp())
  .action(async (options: TailFlags) => {
    process.exitCode = await tail(options)
  })

clientOptions(
  program
    .command('clock')
    .description(
      "Read a running server's clock, or move it forward (servers started with --clock manual)",
    )
    .argument('<action>', 'now, or advance')
    .argument('[duration]', 'with advance: how far, e.g. 90m, 2h, 1h30m, 45s'),
).action(async (action: string, duration: string | undefined, options: ClockFlags) => {
  if (action !== 'now' && action !== 'advance')
    throw new Error(`unknown clock action: ${action} (now or advance)`)
  process.exitCode = await clock(action, duration, options)
})

clientOptions(
  program
    .command('query')
    .description(
      'Run read-only SQL over an archive\'s events (table "events"; see docs/archives.md)',
    )
    .argument('<sql>', 'one SELECT statement')
    .requiredOption('--archive <name>', 'the archive')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--timeout <ms>', 'interrupt the query after this long (default 10000)'),
  'the archive of this account',
).action(async (sql: string, options: QueryFlags) => {
  process.exitCode = await query(sql, options)
})

clientOptions(
  program
    .command('replay')
    .description('Replay an archive onto its bus, in original order, at a chosen speed')
    .requiredOption('--archive <name>', 'the archive')
    .option('--name <name>', 'replay name (default: archive name and the time)')
    .option('--from <time>', 'first event time, ISO-8601 or epoch seconds (default: the beginning)')
    .option('--to <time>', 'last event time (default: now)')
    .option('--speed <n>', '1 (as the events came), 10 (ten times faster), … or max (default)')
    .option('--filter-arn <arn...>', 'only these rules receive the events')
    .option('--wait', 'print progress until the replay ends; exit 0 only if it completed'),
  'the archive of this account',
).action(async (options: ReplayFlags) => {
  process.exitCode = await replay(options)
})

clientOptions(
  program
    .command('logs')
    .description("Print a function's log lines (START, END, REPORT and its output)")
    .argument('<function>', 'function name or ARN')
    .option('--follow', 'keep printing new lines until interrupted'),
  'the function of this account',
).action(async (fn: string, options: Omit<LogsFlags, 'function'>) => {
  process.exitCode = await logs({ ...options, function: fn })
})

const stackOptions = (c: Command) =>
  c
    .option(
      '--endpoint-url <url>',
      'server URL (else AWS_ENDPOINT_URL; default http://127.0.0.1:4010)',
    )
    .option(
      '--region <region>',
      'region (else AWS_REGION, AWS_DEFAULT_REGION, the profile region, us-east-1)',
    )
    .option('--profile <profile>', 'the credentials of this profile of the AWS shared files')

stackOptions(
  program
    .command('deploy')
    .description(
      'Deploy a CloudFormation or SAM template as a stack (exit 1: rolled back, 2: invalid)',
    )
    .argument('<template>', 'the template file (YAML or JSON)')
    .option('--stack-name <name>', "the stack (default: the template file's base name)")
    .option('--parameter-overrides <pairs...>', 'template parameters, Key=Value ...')
    .option('--delete', 'delete the stack and its resources instead'),
).action(async (template: string, options: DeployFlags) => {
  process.exitCode = await deploy(template, options)
})

stackOptions(
  program
    .command('stacks')
    .description('List the deployed stacks: name, status, last update, resources')
    .option('--output <format>', 'table or json', 'table'),
).action(async (options: StacksFlags) => {
  process.exitCode = await stacks(options)
})

sinksCommand(program, clientOptions)
const sources = program
  .command('sources')
  .description('Change-capture sources: database changes streamed onto a bus (see docs/cdc.md)')
clientOptions(
  sources
    .command('add')
    .description('Add a source: a PostgreSQL publication or a MySQL/MariaDB binlog')
    .argument('<name>', 'the source (events get source junction.cdc.<name>)')
    .option('--postgres <url>', 'postgres://user:password@host:port/db')
    .option('--mysql <url>', 'mysql://user:password@host:port')
    .option('--publication <name>', 'PostgreSQL: the publication to stream')
    .requiredOption('--bus <name>', 'the bus the changes go onto')
    .option('--slot <name>', 'PostgreSQL: the replication slot (default junction_<name>)')
    .option('--server-id <n>', 'MySQL: the server id to register as a replica with')
    .option('--snapshot', 'read the published tables first (op r), then stream')
    .option('--detail-type-with-op', 'detail-type <schema>.<table>.<op>')
    .option('--oversize <policy>', 'drop-before (default), key-only or fail'),
).action(async (name: string, options: SourcesAddFlags) => {
  process.exitCode = await sourcesAdd(name, options)
})
clientOptions(
  sources
    .command('list')
    .description('List the sources with their state, changes captured and lag')
    .option('--output <format>', 'table or json', 'table'),
).action(async (options: Parameters<typeof sourcesList>[0]) => {
  process.exitCode = await sourcesList(options)
})
clientOptions(
  sources
    .command('remove')
    .description('Remove a source (it stops at once)')
    .argument('<name>', 'the source')
    .option('--drop-slot', 'PostgreSQL: also drop its replication slot (frees the WAL it holds)'),
).action(async (name: string, options: SourcesRemoveFlags) => {
  process.exitCode = await sourcesRemove(name, options)
})

program
  .command('migrate')
  .description(
    'Copy a stopped single-node store (SQLite) into an empty NATS store: configuration, schedule ticks, delivery jobs owed, archives',
  )
  .requiredOption('--data <dir>', 'the SQLite data directory (its server must be stopped)')
  .requiredOption('--nats-url <urls>', 'the NATS servers, comma-separated')
  .option('--nats-replicas <n>', 'copies of every stream and bucket (default 1)')
  .action(async (options: MigrateFlags) => {
    process.exitCode = await migrate(options)
  })

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 2
})
