/**
 * `junction test-pattern --pattern P --event E [--explain]`: does the event match the pattern?
 * Exit 0 on a match, 1 on none, 2 when the pattern is invalid (AWS's message on stderr).
 */
import { readFileSync } from 'node:fs'
import { checkPattern, explain, matchesPattern } from '../../pattern/index.js'

export type TestPatternOptions = { pattern: string; event: string; explain?: boolean }

/** `@file` reads the file; anything else is the JSON text itself. */
export function textArgument(value: string): string {
  return value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value
}

export function testPattern(options: TestPatternOptions): number {
  const pattern = textArgument(options.pattern)
  const eventText = textArgument(options.event)
  const problem = checkPattern(pattern)
  if (problem !== null) {
    process.stderr.write(`${problem.code}: ${problem.message}\n`)
    return 2
  }
  let event: object
  try {
    const parsed: unknown = JSON.parse(eventText)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the event must be a JSON object')
    }
    event = parsed
  } catch (e) {
    process.stderr.write(`Event is not valid JSON: ${(e as Error).message}\n`)
    return 2
  }
  const matched = matchesPattern(pattern, event)
  if (options.explain === true) process.stdout.write(`${explain(pattern, event).text}\n`)
  else process.stdout.write(`${matched ? 'true' : 'false'}\n`)
  return matched ? 0 : 1
}
