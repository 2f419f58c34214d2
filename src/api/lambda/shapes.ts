/**
 * @module
 * Records as Lambda's wire shapes: FunctionConfiguration, EventSourceMappingConfiguration,
 * FunctionEventInvokeConfig. Dates as Lambda writes them (`2026-12-04T09:00:00.000+0000` in
 * configurations; epoch seconds for the REST-JSON timestamps of mappings and invoke configs).
 */
import type { EventSourceMapping, FunctionRecord } from '../../functions/model.js'

/** Lambda's `LastModified`: ISO 8601 with milliseconds and a `+0000` offset. */
export const lambdaDate = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000')

export function configuration(fn: FunctionRecord): Record<string, unknown> {
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime: fn.runtime,
    Role: fn.role,
    ...(fn.handler === undefined ? {} : { Handler: fn.handler }),
    CodeSize: fn.codeSize,
    Description: fn.description,
    Timeout: fn.timeout,
    MemorySize: fn.memorySize,
    LastModified: lambdaDate(fn.lastModified),
    CodeSha256: fn.codeSha256,
    Version: '$LATEST',
    ...(Object.keys(fn.environment).length > 0
      ? { Environment: { Variables: fn.environment } }
      : {}),
    ...(fn.deadLetterArn === undefined
      ? {}
      : { DeadLetterConfig: { TargetArn: fn.deadLetterArn } }),
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: fn.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  }
}

export type MappingState =
  'Creating' | 'Enabled' | 'Disabled' | 'Updating' | 'Deleting' | 'Enabling' | 'Disabling'

export function mapping(m: EventSourceMapping, state?: MappingState): Record<string, unknown> {
  return {
    UUID: m.uuid,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
    EventSourceArn: m.eventSourceArn,
    FunctionArn: m.functionArn,
    LastModified: m.lastModified / 1000,
    State: state ?? (m.enabled ? 'Enabled' : 'Disabled'),
    StateTransitionReason: 'USER_INITIATED',
    FunctionResponseTypes: m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    ...(m.maximumConcurrency === undefined
      ? {}
      : { ScalingConfig: { MaximumConcurrency: m.maximumConcurrency } }),
    ...(m.filters === undefined
      ? {}
      : { FilterCriteria: { Filters: m.filters.map((Pattern) => ({ Pattern })) } }),
    EventSourceMappingArn: `arn:aws:lambda:${m.region}:${m.account}:event-source-mapping:${m.uuid}`,
  }
}

export function eventInvokeConfig(fn: FunctionRecord): Record<string, unknown> {
  const c = fn.eventInvokeConfig
  if (!c) return {}
  const destinations: Record<string, unknown> = {}
  if (c.onSuccess !== undefined) destinations.OnSuccess = { Destination: c.onSuccess }
  if (c.onFailure !== undefined) destinations.OnFailure = { Destination: c.onFailure }
  return {
    LastModified: c.lastModified / 1000,
    FunctionArn: `${fn.arn}:$LATEST`,
    ...(c.maximumRetryAttempts === undefined
      ? {}
      : { MaximumRetryAttempts: c.maximumRetryAttempts }),
    ...(c.maximumEventAgeInSeconds === undefined
      ? {}
      : { MaximumEventAgeInSeconds: c.maximumEventAgeInSeconds }),
    DestinationConfig: {
      OnSuccess: destinations.OnSuccess ?? {},
      OnFailure: destinations.OnFailure ?? {},
    },
  }
}
