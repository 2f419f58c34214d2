/**
 * @module
 * The contract between the two halves of `junction deploy`: the template side (parsing, the SAM
 * transform, parameters, conditions, intrinsics, dependency order) produces a {@link StackPlan};
 * the provisioning side walks it, creating, updating and deleting resources through the AWS APIs
 * of a running server, one {@link Provisioner} per resource type.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import type { SchedulerClient } from '@aws-sdk/client-scheduler'
import type { SQSClient } from '@aws-sdk/client-sqs'

/** A template problem, with the 1-based line of the template it is about when known. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${String(line)}: ${message}`)
    this.name = 'TemplateError'
  }
}

/** What exists for a resource once it is created: what `Ref` and `Fn::GetAtt` read. */
export type ResourceCreated = { physicalId: string; attributes: Record<string, unknown> }

/** A resource of the plan (after the SAM transform only CloudFormation types remain). */
export type PlannedResource = {
  logicalId: string
  type: string
  /** 1-based line of the resource in the template file, for errors. */
  line: number | undefined
  /** Logical ids this resource needs first: from Ref, Fn::GetAtt, Fn::Sub and DependsOn. */
  dependsOn: string[]
  deletionPolicy: 'Delete' | 'Retain'
}

export type StackOutput = { key: string; value: unknown; description?: string; exportName?: string }

export type CreatedLookup = (logicalId: string) => ResourceCreated | undefined

/** A template with its parameters bound and conditions decided, ready to provision. */
export interface StackPlan {
  readonly stackName: string
  readonly account: string
  readonly region: string
  /** The directory of the template file: local code paths are relative to it. */
  readonly baseDir: string
  /** Parameter values as bound (defaults applied), for the stack record. */
  readonly parameters: Record<string, string>
  /** Resources whose Condition holds, every resource after the ones it depends on. */
  readonly resources: PlannedResource[]
  /**
   * The resource's Properties with every intrinsic resolved against the resources created so
   * far; `AWS::NoValue` removes the key. Throws a TemplateError naming the line.
   */
  properties(logicalId: string, created: CreatedLookup): Record<string, unknown>
  /** The Outputs whose Condition holds, resolved. */
  outputs(created: CreatedLookup): StackOutput[]
}

/** The clients a provisioner calls, all pointed at the server, signed as the deploying account. */
export type Clients = {
  events: EventBridgeClient
  sqs: SQSClient
  lambda: LambdaClient
  scheduler: SchedulerClient
}

export type ProvisionContext = {
  clients: Clients
  stackName: string
  logicalId: string
  account: string
  region: string
  /** The template's directory, for local code paths. */
  baseDir: string
  /**
   * A CloudFormation-style generated name, `<stack>-<logicalId>-<SUFFIX>`, shortened to fit
   * `maxLength` the way CloudFormation shortens it.
   */
  generatedName(maxLength: number): string
  /** The template line of this resource, for errors. */
  line: number | undefined
}

/** Creates, updates and deletes one resource type through the server's APIs. */
export interface Provisioner {
  readonly type: string
  /** Every property this type accepts; any other is an error naming it and this list. */
  readonly properties: readonly string[]
  create(ctx: ProvisionContext, props: Record<string, unknown>): Promise<ResourceCreated>
  /**
   * Brings the resource from `before` to `after` properties. When a property that cannot change
   * in place changed (a name, say), creates the replacement, deletes the old one and returns the
   * new physical id, as CloudFormation replaces.
   */
  update(
    ctx: ProvisionContext,
    current: ResourceCreated,
    before: Record<string, unknown>,
    after: Record<string, unknown>,
  ): Promise<ResourceCreated>
  /**
   * Whether the resource differs from its properties in a way they do not show (a function's
   * zip changed behind the same path); then it is updated although its properties compare
   * equal.
   */
  changedOutside?(
    ctx: ProvisionContext,
    current: ResourceCreated,
    props: Record<string, unknown>,
  ): Promise<boolean>
  /** Deletes it; a resource already gone is not an error. */
  delete(
    ctx: ProvisionContext,
    current: ResourceCreated,
    props: Record<string, unknown>,
  ): Promise<void>
}
