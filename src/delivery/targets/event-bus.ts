/**
 * @module
 * Event-bus targets: the event is put on another bus, in this region or another, and routed
 * there. Its envelope keeps the original account, region, source and detail; the id is kept on a
 * same-region hop and is new on a cross-region one, as AWS does (eventbridge-api.md §7.2). Events
 * that arrived this way are never sent on to a further bus; the ingest step enforces that.
 */
import { randomUUID } from 'node:crypto'
import { busNameOf, parseArn } from '../../arns.js'
import { decidePutEvents, type Decision } from '../../auth/policy.js'
import type { EventBus, StoredEvent } from '../../model.js'
import type { InvocationResult, TargetAdapter } from './adapter.js'

export type EventBusTargetDeps = {
  bus(scope: { account: string; region: string }, name: string): EventBus | undefined
  forward(event: StoredEvent, envelope: Record<string, unknown>, bus: EventBus): Promise<void>
  /** An account's organization (from `--credentials`), for `aws:PrincipalOrgID` in bus policies. */
  organizationOf?: (account: string) => string | undefined
}

export function createEventBusAdapter(deps: EventBusTargetDeps): TargetAdapter {
  // The sending account may put events on its own buses, and on others as their policy allows.
  const decision = (sender: string, bus: EventBus): Decision =>
    sender === bus.account
      ? { allowed: true, why: 'same account' }
      : decidePutEvents(bus.policy, {
          account: sender,
          organizationId: deps.organizationOf?.(sender),
        })
  return {
    kind: 'event-bus',
    accepts: (arn) => parseArn(arn)?.service === 'events' && arn.includes(':event-bus/'),
    async invoke({ event, envelope, rule, target }): Promise<InvocationResult> {
      // Routing already skips these; checked again here because a target can be changed to a
      // bus while deliveries for it are waiting to be retried.
      if (event.hops >= 1 || target.arn === event.busArn)
        return fail('NO_PERMISSIONS', 'An event that came from another bus is not forwarded again.')
      const arn = parseArn(target.arn)!
      const bus = deps.bus({ account: arn.account, region: arn.region }, busNameOf(target.arn))
      if (!bus) return fail('NO_RESOURCE', `Event bus ${busNameOf(target.arn)} does not exist.`)
      const allowed = decision(rule.account, bus)
      // Retried within the target's RetryPolicy: the receiving account may still grant it.
      if (!allowed.allowed)
        return fail(
          'NO_PERMISSIONS',
          `Account ${rule.account} is not authorized to perform: events:PutEvents on resource: ${bus.arn} ${allowed.why}`,
          true,
        )
      if (arn.region === rule.region) await deps.forward(event, envelope, bus)
      else {
        const id = randomUUID()
        // The envelope text begins `{"version":"0","id":"…"`: the first id is the event's.
        const text = event.text.replace(`"id":"${event.id}"`, `"id":"${id}"`)
        await deps.forward({ ...event, id, text }, { ...envelope, id }, bus)
      }
      return { outcome: 'delivered' }
    },
  }
}

const fail = (errorCode: string, errorMessage: string, retryable = false): InvocationResult => ({
  outcome: 'failed',
  retryable,
  errorCode,
  errorMessage,
})
