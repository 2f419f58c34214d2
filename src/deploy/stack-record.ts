/**
 * @module
 * A stack as the server keeps it (ConfigKind `stack`, keyed by account, region and name): what
 * `junction deploy` created, with each resource's physical id, attributes and the properties as
 * resolved, so that the next deploy of the same stack can tell what changed.
 */
import type { StackOutput } from './model.js'

/** CloudFormation's stack statuses that Junction writes. */
export const STACK_STATUSES = [
  'CREATE_IN_PROGRESS',
  'CREATE_COMPLETE',
  'ROLLBACK_COMPLETE',
  'ROLLBACK_FAILED',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'UPDATE_ROLLBACK_FAILED',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
] as const
export type StackStatus = (typeof STACK_STATUSES)[number]

export type ResourceStatus =
  'CREATE_COMPLETE' | 'UPDATE_COMPLETE' | 'CREATE_FAILED' | 'UPDATE_FAILED' | 'DELETE_FAILED'

export type StackResource = {
  logicalId: string
  type: string
  physicalId: string
  attributes: Record<string, unknown>
  /** The properties as resolved when last created or updated. */
  properties: Record<string, unknown>
  status: ResourceStatus
  deletionPolicy?: 'Delete' | 'Retain'
}

export type StackRecord = {
  name: string
  /** `arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`. */
  id: string
  status: StackStatus
  /** ISO-8601. */
  createdAt: string
  updatedAt: string
  templatePath: string
  parameters: Record<string, string>
  /** In creation order: every resource after the ones it depends on. */
  resources: StackResource[]
  outputs: StackOutput[]
  /** Why the last deploy failed, when it did. */
  statusReason?: string
}

/** What a deploy writes: the server sets `id`, `createdAt` and `updatedAt`. */
export type StackDraft = Omit<StackRecord, 'id' | 'createdAt' | 'updatedAt'>

export const stackId = (region: string, account: string, name: string, uuid: string) =>
  `arn:aws:cloudformation:${region}:${account}:stack/${name}/${uuid}`

/** Why a document is not a stack record, or undefined when it is one. */
export function recordProblem(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return 'The stack record must be a JSON object.'
  const r = doc as Partial<Record<keyof StackRecord, unknown>>
  if (typeof r.name !== 'string') return 'name must be a string.'
  if (typeof r.status !== 'string' || !(STACK_STATUSES as readonly string[]).includes(r.status))
    return `status must be one of ${STACK_STATUSES.join(', ')}.`
  if (
    r.id !== undefined &&
    (typeof r.id !== 'string' || !r.id.startsWith('arn:aws:cloudformation:'))
  )
    return 'id must be a CloudFormation stack ARN.'
  if (typeof r.templatePath !== 'string') return 'templatePath must be a string.'
  if (r.parameters === null || typeof r.parameters !== 'object' || Array.isArray(r.parameters))
    return 'parameters must be an object.'
  if (!Array.isArray(r.resources)) return 'resources must be a list.'
  for (const [i, res] of (r.resources as unknown[]).entries()) {
    const x = res as Partial<Record<keyof StackResource, unknown>> | null
    if (
      typeof x?.logicalId !== 'string' ||
      typeof x.type !== 'string' ||
      typeof x.physicalId !== 'string' ||
      typeof x.status !== 'string' ||
      x.attributes === null ||
      typeof x.attributes !== 'object' ||
      x.properties === null ||
      typeof x.properties !== 'object'
    )
      return `resources[${String(i)}] needs logicalId, type, physicalId, status (strings), attributes and properties (objects).`
  }
  if (!Array.isArray(r.outputs)) return 'outputs must be a list.'
  return undefined
}
