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
import { iamManagedPolicy } from './iam-managed-policy.js'
import { iamPolicy } from './iam-policy.js'
import { iamRole } from './iam-role.js'
import { lambdaEventInvokeConfig } from './lambda-event-invoke-config.js'
import { lambdaEventSourceMapping } from './lambda-event-source-mapping.js'
import { lambdaFunction } from './lambda-function.js'
import { lambdaPermission } from './lambda-permission.js'
import { schedulerScheduleGroup } from './scheduler-schedule-group.js'
import { schedulerSchedule } from './scheduler-schedule.js'
import { sqsQueueInlinePolicy } from './sqs-queue-inline-policy.js'
import { sqsQueuePolicy } from './sqs-queue-policy.js'
import { sqsQueue } from './sqs-queue.js'

const all: Provisioner[] = [
  // EventBridge
  eventBusProvisioner,
  ruleProvisioner,
  eventBusPolicyProvisioner,
  archiveProvisioner,
  connectionProvisioner,
  apiDestinationProvisioner,
  // SQS
  sqsQueue,
  sqsQueuePolicy,
  sqsQueueInlinePolicy,
  // Lambda
  lambdaFunction,
  lambdaPermission,
  lambdaEventSourceMapping,
  lambdaEventInvokeConfig,
  // EventBridge Scheduler
  schedulerSchedule,
  schedulerScheduleGroup,
  // IAM: recorded only
  iamRole,
  iamPolicy,
  iamManagedPolicy,
]

export const provisioners: ReadonlyMap<string, Provisioner> = new Map(
  all.map((p): [string, Provisioner] => [p.type, p]),
)
