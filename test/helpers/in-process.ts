/**
 * A bus in this process (memory or SQLite store, optional manual clock), driven by calling its
 * operations with wire-shaped input, as the HTTP layer would.
 */
import { operations } from '../../src/api/operations/index.js'
import { createBus, type Bus, type BusOptions } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import type { Scope } from '../../src/model.js'

export type TestBus = Bus & {
  call(
    operation: string,
    input: Record<string, unknown>,
    scope?: Scope,
  ): Promise<Record<string, unknown>>
}

export const TEST_SCOPE: Scope = { account: '111111111111', region: 'us-east-1' }

export async function createTestBus(options: Partial<BusOptions> = {}): Promise<TestBus> {
  const bus = await createBus({ ...DEFAULTS, store: 'memory', ...options })
  return Object.assign(bus, {
    async call(operation: string, input: Record<string, unknown>, scope: Scope = TEST_SCOPE) {
      const op = operations.get(operation)
      if (!op) throw new Error(`no operation ${operation}`)
      return (await op({ scope, requestId: 'test', services: bus.services }, input)) as Record<
        string,
        unknown
      >
    },
  })
}
