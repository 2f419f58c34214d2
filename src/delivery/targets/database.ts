/**
 * @module
 * Sink targets (a Junction extension, see docs/sinks.md): the event, or what the target's
 * Input, InputPath or InputTransformer makes of it, is upserted as a row of a PostgreSQL or
 * MySQL/MariaDB table, guarded by its version so that redelivered and out-of-order events never
 * undo newer data. The dispatcher's retry policy and dead-letter queue apply as for any target:
 * the database down is retried, a missing table is not.
 */
import { isSinkArn, type SinkDefinition } from '../../sink/model.js'
import { rowOf } from '../../sink/rows.js'
import type { SinkWriters } from '../../sink/writer.js'
import type { InvocationResult, TargetAdapter } from './adapter.js'

export function createDatabaseAdapter(deps: {
  sink: (arn: string) => SinkDefinition | undefined
  writers: SinkWriters
}): TargetAdapter {
  return {
    kind: 'junction-sink',
    accepts: isSinkArn,
    async invoke({ target, body }): Promise<InvocationResult> {
      const def = deps.sink(target.arn)
      if (!def) return fail('NO_RESOURCE', `The sink ${target.arn} does not exist.`)
      let input: unknown
      try {
        input = JSON.parse(body)
      } catch {
        return fail('SDK_CLIENT_ERROR', `The sink ${def.name} received input that is not JSON.`)
      }
      const row = rowOf(def, input)
      if ('skip' in row) return { outcome: 'delivered' }
      if ('problem' in row)
        return fail(
          'SDK_CLIENT_ERROR',
          `The sink ${def.name} cannot write this event: ${row.problem}`,
        )
      const outcome = await deps.writers.of(def).write(row)
      if (outcome.ok) return { outcome: 'delivered' }
      return {
        outcome: 'failed',
        retryable: outcome.retryable,
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
      }
    },
  }
}

const fail = (errorCode: string, errorMessage: string): InvocationResult => ({
  outcome: 'failed',
  retryable: false,
  errorCode,
  errorMessage,
})
