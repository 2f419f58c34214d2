/**
 * @module
 * Every EventBridge operation Junction answers, by name (the part after `AWSEvents.`).
 */
import type { Operation } from '../context.js'
import { apiDestinationOperations } from './api-destinations.js'
import { busOperations } from './buses.js'
import { connectionOperations } from './connections.js'
import { eventOperations } from './events.js'
import { permissionOperations } from './permissions.js'
import { ruleOperations } from './rules.js'
import { tagOperations } from './tags.js'
import { targetOperations } from './targets.js'

export const operations: ReadonlyMap<string, Operation> = new Map(
  Object.entries({
    ...busOperations,
    ...ruleOperations,
    ...targetOperations,
    ...eventOperations,
    ...tagOperations,
    ...permissionOperations,
    ...connectionOperations,
    ...apiDestinationOperations,
  }),
)
