/** Loads the shared citylots stand-ins and their pattern sets (see ../shared/bench/data). */
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { sharedPath } from '../test/helpers/shared.js'

export type Group = { patterns: unknown[]; synthExpected: number[] }

export function loadLines(file: string, limit = Infinity): string[] {
  const text = gunzipSync(readFileSync(sharedPath('bench', 'data', file))).toString('utf8')
  const lines = text.split('\n').filter((l) => l.length > 0)
  return lines.length > limit ? lines.slice(0, limit) : lines
}

type PatternsFile = {
  'event-ruler': {
    CL2Benchmark: { groups: Record<string, Group>; combos: Record<string, string[]> }
  }
}

export function cl2(): PatternsFile['event-ruler']['CL2Benchmark'] {
  const file = JSON.parse(
    readFileSync(sharedPath('bench', 'data', 'citylots-patterns.json'), 'utf8'),
  ) as PatternsFile
  return file['event-ruler'].CL2Benchmark
}
