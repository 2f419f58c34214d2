/**
 * @module
 * Every resource type `junction deploy` provisions, by CloudFormation type name.
 */
import type { Provisioner } from '../model.js'
import { apiDestinationProvisioner } from './events-api-destination.js'
import { archiveProvisioner } from './events-archive.js'
import { eventBusPolicyProvisioner } from './events-bus-policy.js'
import { connectionProvisioner } from './events-connection.js'
import { eventBusProvisioner } from './events-event-bus.js'
import { ruleProvisioner } from './events-rule.js'

const all: Provisioner[] = [
  // EventBridge
  eventBusProvisioner,
  ruleProvisioner,
  eventBusPolicyProvisioner,
  archiveProvisioner,
  connectionProvisioner,
  apiDestinationProvisioner,
  // ── other resource families (SQS, Lambda, Scheduler, IAM) are registered here ──
]

export const provisioners: ReadonlyMap<string, Provisioner> = new Map(
  all.map((p): [string, Provisioner] => [p.type, p]),
)
