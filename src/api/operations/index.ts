/**
 * @module
 * Every EventBridge operation Junction answers, by name (the part after `AWSEvents.`).
 */
import type { Operation } from '../context.js'
import { apiDestinationOperations } from './api-destinations.js'
import { archiveOperations } from './archives.js'
import { busOperations } from './buses.js'
import { connectionOperations } from './connections.js'
import { eventOperations } from './events.js'
import { permissionOperations } from './permissions.js'
import { replayOperations } from './replays.js'
import { ruleOperations } from './rules.js'
import { tagOperations } from './tags.js'
import { targetOperations } from './targets.js'

const all: Record<string, Operation> = {
  ...busOperations,
  ...ruleOperations,
  ...targetOperations,
  ...eventOperations,
  ...tagOperations,
  ...permissionOperations,
  ...connectionOperations,
  ...apiDestinationOperations,
  ...archiveOperations,
  ...replayOperations,
}

/** Operations that only read, or (PutEvents) never change the control plane. */
const NOT_CHANGING = /^(Describe|List|Test)|^PutEvents$/

/** Control-plane changes run one at a time (see Registry.exclusive); reads and PutEvents do not wait. */
export const operations: ReadonlyMap<string, Operation> = new Map(
  Object.entries(all).map(([name, op]): [string, Operation] => [
    name,
    NOT_CHANGING.test(name)
      ? op
      : (ctx, input) => ctx.services.registry.exclusive(() => op(ctx, input)),
  ]),
)
