/**
 * Locates the shared conformance corpus and benchmark data. They live beside the repository
 * (`../shared`), never inside it; JUNCTION_SHARED overrides the location.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export function sharedPath(...parts: string[]): string {
  const base = process.env.JUNCTION_SHARED ?? resolve(repoRoot, '..', 'shared')
  return resolve(base, ...parts)
}

export function readJsonLines<T>(...parts: string[]): T[] {
  return readFileSync(sharedPath(...parts), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T)
}
