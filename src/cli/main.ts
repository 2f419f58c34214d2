#!/usr/bin/env node
/**
 * @module
 * The `junction` command line.
 */
import { Command } from 'commander'
import { testPattern } from './commands/test-pattern.js'

const program = new Command()
program
  .name('junction')
  .description('A self-hosted event bus that speaks the Amazon EventBridge API')

program
  .command('test-pattern')
  .description('Test an event against an event pattern (exit 0: match, 1: no match, 2: invalid)')
  .requiredOption('--pattern <json>', 'the event pattern, as JSON text or @file')
  .requiredOption('--event <json>', 'the event, as JSON text or @file')
  .option('--explain', 'say which field decided, and why')
  .action((options: { pattern: string; event: string; explain?: boolean }) => {
    process.exitCode = testPattern(options)
  })

program.parse()
