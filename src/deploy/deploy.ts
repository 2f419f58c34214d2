/**
 * @module
 * Provisioning a {@link StackPlan} on a running server, as CloudFormation would:
 *
 * - The whole plan is checked first (resource types, property names); nothing is created when
 *   any check fails ({@link DeployError} with `phase: 'validation'`).
 * - A new stack: every resource is created in plan order (dependencies first).
 * - An existing stack (its record on the server): a resource only in the plan is created, one in
 *   both is updated when its resolved properties differ (deep compare), and once everything
 *   else succeeded, one only in the record is deleted (last created first) unless its
 *   DeletionPolicy is Retain. A delete that fails there does not roll back: the resource stays
 *   in the record as DELETE_FAILED and the next deploy tries again.
 * - A failure rolls back what this deploy did, newest first: what it created is deleted, what it
 *   updated is updated back to its old properties. A new stack then leaves no record (nothing of
 *   it remains); an existing one is UPDATE_ROLLBACK_COMPLETE with its old resources and
 *   outputs. When the rollback itself fails, the record keeps what is left (ROLLBACK_FAILED or
 *   UPDATE_ROLLBACK_FAILED). The error names the resource, its line and the server's answer.
 *
 * One deploy of a stack at a time: nothing here locks the record against a concurrent deploy.
 */
import { dirname } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type {
  Clients,
  CreatedLookup,
  PlannedResource,
  ProvisionContext,
  Provisioner,
  ResourceCreated,
  StackOutput,
  StackPlan,
} from './model.js'
import { generatedName, randomSuffix } from './names.js'
import { provisioners as defaultProvisioners } from './resources/index.js'
import { planProblems, propertyProblems } from './stack-check.js'
import type { StackDraft, StackRecord, StackResource, StackStatus } from './stack-record.js'

/** Where stack records are kept (the server's `/junction/stacks`, through StackClient). */
export type StackStore = {
  get(name: string): Promise<StackRecord | undefined>
  put(record: StackDraft): Promise<StackRecord>
  delete(name: string): Promise<void>
}

/** A progress line, as CloudFormation's stack events: `CREATE_COMPLETE AWS::Events::Rule R`. */
export type StackEvent = {
  status: string
  type: string
  logicalId: string
  physicalId?: string
  reason?: string
}

export type FailedResource = {
  logicalId: string
  type: string
  line: number | undefined
  /** The server's error code (an SDK exception's name), or TemplateError. */
  code: string
  message: string
}

export class DeployError extends Error {
  constructor(
    message: string,
    /** validation: nothing was touched; provision: a change failed and was rolled back. */
    readonly phase: 'validation' | 'provision',
    readonly failed?: FailedResource,
    readonly rolledBack?: boolean,
  ) {
    super(message)
    this.name = 'DeployError'
  }
}

export type DeployInput = {
  plan: StackPlan
  clients: Clients
  stacks: StackStore
  /** The template file, as recorded. */
  templatePath: string
  provisioners?: ReadonlyMap<string, Provisioner>
  onEvent?: (e: StackEvent) => void
}

export type DeployResult = {
  record: StackRecord
  outputs: StackOutput[]
  created: string[]
  updated: string[]
  deleted: string[]
}

type Step =
  | { kind: 'created'; now: StackResource }
  | { kind: 'updated'; before: StackResource; now: StackResource }

type Run = {
  plan: StackPlan
  clients: Clients
  provisioners: ReadonlyMap<string, Provisioner>
  emit: (e: StackEvent) => void
}

const STACK_TYPE = 'AWS::CloudFormation::Stack'

export async function deployStack(input: DeployInput): Promise<DeployResult> {
  const { plan, stacks } = input
  const provisioners = input.provisioners ?? defaultProvisioners
  const emit = input.onEvent ?? (() => undefined)
  const old = await stacks.get(plan.stackName)
  const existing = new Map((old?.resources ?? []).map((r) => [r.logicalId, r]))
  const problems = planProblems(plan, provisioners, existing)
  if (problems.length > 0) throw new DeployError(problems.join('\n'), 'validation')

  const run: Run = { plan, clients: input.clients, provisioners, emit }
  const creating = old === undefined
  const base = {
    name: plan.stackName,
    templatePath: input.templatePath,
    parameters: plan.parameters,
  }
  const inProgress: StackStatus = creating ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS'
  // Written again after each change, so that a deploy cut short leaves a record of what exists.
  const checkpoint = () =>
    stacks.put({
      ...base,
      status: inProgress,
      resources: [...current.values()],
      outputs: old?.outputs ?? [],
    })
  const current = new Map(existing)
  await checkpoint()
  emit({
    status: creating ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS',
    type: STACK_TYPE,
    logicalId: plan.stackName,
  })

  const lookup: CreatedLookup = (id) => current.get(id)
  const steps: Step[] = []
  let outputs: StackOutput[]
  try {
    for (const r of plan.resources) {
      const step = await provision(run, r, current.get(r.logicalId), lookup)
      if (step) {
        steps.push(step)
        current.set(r.logicalId, step.now)
        await checkpoint()
      }
    }
    outputs = plan.outputs(lookup)
  } catch (e) {
    const failure = e instanceof ResourceFailure ? e.failed : undefined
    const reason = failure ? `${failure.code}: ${failure.message}` : errorLine(e)
    return rollBack(run, input, base, old, current, steps, failure, reason)
  }

  const planned = new Set(plan.resources.map((r) => r.logicalId))
  const removed = (old?.resources ?? []).filter((r) => !planned.has(r.logicalId)).reverse()
  const deleted: string[] = []
  for (const r of removed) {
    if (await deleteResource(run, r, undefined)) {
      current.delete(r.logicalId)
      deleted.push(r.logicalId)
    } else current.set(r.logicalId, { ...r, status: 'DELETE_FAILED' })
  }
  const resources = [
    ...plan.resources.map((r) => current.get(r.logicalId)!),
    ...[...current.values()].filter((r) => !planned.has(r.logicalId)),
  ]
  const status: StackStatus = creating ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE'
  const record = await stacks.put({ ...base, status, resources, outputs })
  emit({ status, type: STACK_TYPE, logicalId: plan.stackName })
  return {
    record,
    outputs,
    created: steps.filter((s) => s.kind === 'created').map((s) => s.now.logicalId),
    updated: steps.filter((s) => s.kind === 'updated').map((s) => s.now.logicalId),
    deleted,
  }
}

/** A resource's failure, with what the error message needs. */
class ResourceFailure extends Error {
  constructor(readonly failed: FailedResource) {
    super(failed.message)
  }
}

/**
 * What a provisioner gets for one call. A generated name is the same however often that call
 * asks (a suffix per call), and differs between calls: a replacement, and the replacement that
 * rolls it back, get names of their own.
 */
function context(run: Run, logicalId: string, line: number | undefined): ProvisionContext {
  const { plan } = run
  const suffix = randomSuffix()
  return {
    clients: run.clients,
    stackName: plan.stackName,
    logicalId,
    account: plan.account,
    region: plan.region,
    baseDir: plan.baseDir,
    line,
    generatedName: (maxLength) => generatedName(plan.stackName, logicalId, maxLength, suffix),
  }
}

/** Creates or updates one resource; undefined when it is unchanged. */
async function provision(
  run: Run,
  r: PlannedResource,
  prev: StackResource | undefined,
  lookup: CreatedLookup,
): Promise<Step | undefined> {
  const p = run.provisioners.get(r.type)!
  const verb = prev ? 'UPDATE' : 'CREATE'
  let props: Record<string, unknown>
  try {
    props = run.plan.properties(r.logicalId, lookup)
    const problems = propertyProblems(r, p, props)
    if (problems.length > 0) throw new Error(problems.join('\n'))
  } catch (e) {
    return fail(run, r, verb, e)
  }
  const ctx = context(run, r.logicalId, r.line)
  if (
    prev &&
    isDeepStrictEqual(prev.properties, props) &&
    !(await p.changedOutside?.(ctx, prev, props).catch(() => true))
  )
    return undefined
  run.emit({ status: `${verb}_IN_PROGRESS`, type: r.type, logicalId: r.logicalId })
  let made: ResourceCreated
  try {
    made = prev ? await p.update(ctx, prev, prev.properties, props) : await p.create(ctx, props)
  } catch (e) {
    return fail(run, r, verb, e)
  }
  const now: StackResource = {
    logicalId: r.logicalId,
    type: r.type,
    physicalId: made.physicalId,
    attributes: made.attributes,
    properties: props,
    status: prev ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE',
    deletionPolicy: r.deletionPolicy,
  }
  run.emit({
    status: now.status,
    type: r.type,
    logicalId: r.logicalId,
    physicalId: now.physicalId,
  })
  return prev ? { kind: 'updated', before: prev, now } : { kind: 'created', now }
}

function fail(run: Run, r: PlannedResource, verb: string, e: unknown): never {
  const code = e instanceof Error && e.name !== 'Error' ? e.name : 'Error'
  const message = e instanceof Error ? e.message : String(e)
  run.emit({
    status: `${verb}_FAILED`,
    type: r.type,
    logicalId: r.logicalId,
    reason: `${code}: ${message}`,
  })
  throw new ResourceFailure({ logicalId: r.logicalId, type: r.type, line: r.line, code, message })
}

const errorLine = (e: unknown) =>
  e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e)

/** Deletes one resource of the record (or skips it: Retain); false when the delete failed. */
async function deleteResource(
  run: Run,
  r: StackResource,
  line: number | undefined,
): Promise<boolean> {
  if (r.deletionPolicy === 'Retain') {
    run.emit({
      status: 'DELETE_SKIPPED',
      type: r.type,
      logicalId: r.logicalId,
      physicalId: r.physicalId,
    })
    return true
  }
  const p = run.provisioners.get(r.type)
  run.emit({
    status: 'DELETE_IN_PROGRESS',
    type: r.type,
    logicalId: r.logicalId,
    physicalId: r.physicalId,
  })
  try {
    if (!p) throw new Error(`Junction does not support the type ${r.type} any more.`)
    await p.delete(context(run, r.logicalId, line), r, r.properties)
  } catch (e) {
    run.emit({
      status: 'DELETE_FAILED',
      type: r.type,
      logicalId: r.logicalId,
      reason: errorLine(e),
    })
    return false
  }
  run.emit({
    status: 'DELETE_COMPLETE',
    type: r.type,
    logicalId: r.logicalId,
    physicalId: r.physicalId,
  })
  return true
}

async function rollBack(
  run: Run,
  input: DeployInput,
  base: Omit<StackDraft, 'status' | 'resources' | 'outputs'>,
  old: StackRecord | undefined,
  current: Map<string, StackResource>,
  steps: Step[],
  failed: FailedResource | undefined,
  reason: string,
): Promise<never> {
  const { plan, stacks } = input
  run.emit({
    status: old ? 'UPDATE_ROLLBACK_IN_PROGRESS' : 'ROLLBACK_IN_PROGRESS',
    type: STACK_TYPE,
    logicalId: plan.stackName,
    reason,
  })
  let clean = true
  for (const step of [...steps].reverse()) {
    const line = plan.resources.find((r) => r.logicalId === step.now.logicalId)?.line
    if (step.kind === 'created') {
      // Retain does not keep what a failed deploy created, as in CloudFormation.
      if (await deleteResource(run, { ...step.now, deletionPolicy: 'Delete' }, line))
        current.delete(step.now.logicalId)
      else clean = false
      continue
    }
    const back = await revert(run, step, line)
    if (back) current.set(back.logicalId, back)
    else clean = false
  }
  const where = failed
    ? `${failed.logicalId} (${failed.type}${failed.line === undefined ? '' : `, line ${String(failed.line)}`})`
    : 'the stack'
  const message = `${old ? 'Update' : 'Create'} of stack ${plan.stackName} failed at ${where}: ${reason}\n${
    clean
      ? 'Every change of this deploy was rolled back.'
      : 'The rollback did not finish: the stack record lists what is left.'
  }`
  const resources = [...current.values()]
  if (!old && clean) {
    await stacks.delete(plan.stackName)
  } else {
    const status: StackStatus = old
      ? clean
        ? 'UPDATE_ROLLBACK_COMPLETE'
        : 'UPDATE_ROLLBACK_FAILED'
      : 'ROLLBACK_FAILED'
    const order = new Map((old?.resources ?? []).map((r, i) => [r.logicalId, i]))
    resources.sort((a, b) => (order.get(a.logicalId) ?? 1e9) - (order.get(b.logicalId) ?? 1e9))
    await stacks.put({
      ...base,
      status,
      resources,
      outputs: old?.outputs ?? [],
      statusReason: reason,
    })
    run.emit({ status, type: STACK_TYPE, logicalId: plan.stackName })
  }
  if (!old && clean)
    run.emit({ status: 'ROLLBACK_COMPLETE', type: STACK_TYPE, logicalId: plan.stackName })
  throw new DeployError(message, 'provision', failed, clean)
}

/** Updates a resource back to its properties before this deploy; undefined when that fails. */
async function revert(
  run: Run,
  step: Extract<Step, { kind: 'updated' }>,
  line: number | undefined,
): Promise<StackResource | undefined> {
  const { before, now } = step
  const p = run.provisioners.get(now.type)!
  run.emit({
    status: 'UPDATE_IN_PROGRESS',
    type: now.type,
    logicalId: now.logicalId,
    reason: 'rollback',
  })
  try {
    const made = await p.update(
      context(run, now.logicalId, line),
      now,
      now.properties,
      before.properties,
    )
    run.emit({
      status: 'UPDATE_COMPLETE',
      type: now.type,
      logicalId: now.logicalId,
      physicalId: made.physicalId,
    })
    return { ...before, physicalId: made.physicalId, attributes: made.attributes }
  } catch (e) {
    run.emit({
      status: 'UPDATE_FAILED',
      type: now.type,
      logicalId: now.logicalId,
      reason: errorLine(e),
    })
    return undefined
  }
}

export type DeleteInput = {
  stackName: string
  account: string
  region: string
  clients: Clients
  stacks: StackStore
  provisioners?: ReadonlyMap<string, Provisioner>
  onEvent?: (e: StackEvent) => void
}

/** Deletes every resource of the stack, last created first (Retain kept), then its record. */
export async function deleteStack(input: DeleteInput): Promise<void> {
  const { stackName, stacks } = input
  const record = await stacks.get(stackName)
  if (!record) throw new DeployError(`Stack with id ${stackName} does not exist`, 'validation')
  const emit = input.onEvent ?? (() => undefined)
  const plan: StackPlan = {
    stackName,
    account: input.account,
    region: input.region,
    baseDir: dirname(record.templatePath),
    parameters: record.parameters,
    resources: [],
    properties: () => ({}),
    outputs: () => [],
  }
  const run: Run = {
    plan,
    clients: input.clients,
    provisioners: input.provisioners ?? defaultProvisioners,
    emit,
  }
  const base = { ...record, status: 'DELETE_IN_PROGRESS' as const }
  await stacks.put(base)
  emit({ status: 'DELETE_IN_PROGRESS', type: STACK_TYPE, logicalId: stackName })
  const left: StackResource[] = []
  for (const r of [...record.resources].reverse())
    if (!(await deleteResource(run, r, undefined))) left.unshift({ ...r, status: 'DELETE_FAILED' })
  if (left.length > 0) {
    await stacks.put({ ...base, status: 'DELETE_FAILED', resources: left })
    emit({ status: 'DELETE_FAILED', type: STACK_TYPE, logicalId: stackName })
    throw new DeployError(
      `Delete of stack ${stackName} failed: ${left.map((r) => r.logicalId).join(', ')} could not be deleted (the record keeps them; run the delete again).`,
      'provision',
    )
  }
  await stacks.delete(stackName)
  emit({ status: 'DELETE_COMPLETE', type: STACK_TYPE, logicalId: stackName })
}
