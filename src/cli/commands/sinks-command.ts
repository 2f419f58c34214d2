/**
 * @module
 * The `junction sinks` command and its subcommands (add, list, remove), declared apart from
 * main.ts so that the command line's main file stays a list.
 */
import type { Command } from 'commander'
import { sinksAdd, sinksList, sinksRemove, type SinkAddFlags } from './sinks.js'

const collect = (value: string, previous: string[] = []) => [...previous, value]

export function sinksCommand(program: Command, clientOptions: (c: Command) => Command): void {
  const sinks = program
    .command('sinks')
    .description('Database sinks: targets that upsert events into PostgreSQL or MySQL tables')
  clientOptions(
    sinks
      .command('add')
      .description('Create or replace a sink (see docs/sinks.md)')
      .argument('<name>', 'the sink name')
      .option('--postgres <url>', 'a PostgreSQL table: postgres://user:password@host:port/db')
      .option('--mysql <url>', 'a MySQL/MariaDB table: mysql://user:password@host:port/db')
      .requiredOption('--table <table>', 'the table (schema.table on PostgreSQL)')
      .requiredOption('--key <column>', 'a key column (repeat, or comma-separated)', collect)
      .option('--column <col=path>', 'map a column to a JSONPath into the event (repeat)', collect)
      .option('--version <path>', 'the version path (default $.detail.source.version)')
      .option('--version-column <column>', 'default _junction_version')
      .option('--deleted-column <column>', 'default _junction_deleted')
      .option('--op <path>', 'the operation path; d writes a tombstone (default $.detail.op)')
      .option('--batch-size <n>', 'most events per transaction (default 100)')
      .option('--no-echo-suppression', 'do not mark writes for change capture to drop'),
  ).action(async (name: string, options: SinkAddFlags) => {
    process.exitCode = await sinksAdd(name, options)
  })
  clientOptions(
    sinks
      .command('list')
      .description('List the sinks (passwords masked)')
      .option('--output <format>', 'table or json', 'table'),
  ).action(async (options: { output?: string }) => {
    process.exitCode = await sinksList(options)
  })
  clientOptions(
    sinks.command('remove').description('Remove a sink').argument('<name>', 'the sink name'),
  ).action(async (name: string, options: Record<string, string>) => {
    process.exitCode = await sinksRemove(name, options)
  })
}
