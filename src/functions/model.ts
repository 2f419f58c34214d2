/**
 * @module
 * Functions as the engine sees them: a Lambda function's configuration and code, its resource
 * policy, its asynchronous-invocation settings and the event source mappings that feed it from
 * queues. Wire shapes (PascalCase) stay in `api/lambda/`.
 */

/** Runtimes Junction runs (the machine's python3 decides which `python3.x` is accepted). */
export type Runtime = string

/** One statement of a function's resource policy (AddPermission), as IAM JSON. */
export type PolicyStatement = {
  Sid: string
  Effect: 'Allow'
  Principal: string | { Service: string } | { AWS: string }
  Action: string
  Resource: string
  Condition?: Record<string, Record<string, string>>
}

/** PutFunctionEventInvokeConfig: Lambda's retries and destinations for asynchronous invokes. */
export type EventInvokeConfig = {
  /** 0–2; absent = Lambda's default (2). */
  maximumRetryAttempts?: number
  /** 60–21,600 s; absent = Lambda's default (21,600). */
  maximumEventAgeInSeconds?: number
  onSuccess?: string
  onFailure?: string
  lastModified: number
}

export type FunctionRecord = {
  /** `account/region/name`: the store key. */
  key: string
  account: string
  region: string
  name: string
  /** `arn:aws:lambda:REGION:ACCOUNT:function:NAME` */
  arn: string
  runtime: Runtime
  /** `file.export` (nodejs, python); absent or ignored for `provided.*`. */
  handler?: string
  role: string
  description: string
  /** Seconds, 1–900 (default 3). */
  timeout: number
  /** MB, 128–10,240 (default 128). Reported to the handler; not enforced as a hard limit. */
  memorySize: number
  environment: Record<string, string>
  tags: Record<string, string>
  /** Base64 SHA-256 of the zip, as Lambda reports `CodeSha256`. */
  codeSha256: string
  codeSize: number
  /**
   * The unpacked code: an absolute directory under the data directory, or with `localCode` the
   * user's own directory, used in place and watched.
   */
  codeDir: string
  /** The code is a local directory (`S3Bucket: "hot-reload"`), not an uploaded zip. */
  localCode?: true
  /** Changes on every update (Lambda's RevisionId). */
  revisionId: string
  /** Epoch ms; Lambda shows it as `2026-12-04T09:00:00.000+0000`. */
  lastModified: number
  /** PutFunctionConcurrency; absent = unreserved. 0 stops every invocation. */
  reservedConcurrency?: number
  policy: PolicyStatement[]
  eventInvokeConfig?: EventInvokeConfig
  /** DeadLetterConfig.TargetArn: where failed asynchronous invocations' events go. */
  deadLetterArn?: string
}

/** CreateEventSourceMapping from one of Junction's queues. */
export type EventSourceMapping = {
  uuid: string
  account: string
  region: string
  eventSourceArn: string
  functionArn: string
  batchSize: number
  maximumBatchingWindowInSeconds: number
  enabled: boolean
  reportBatchItemFailures: boolean
  /** ScalingConfig.MaximumConcurrency (2–1,000); absent = unbounded (the server's limit). */
  maximumConcurrency?: number
  /**
   * FilterCriteria's patterns (event-pattern text): a message goes to the function only when one
   * of them matches its record; the others are deleted unprocessed. Absent: every message.
   */
  filters?: string[]
  /** Epoch ms. */
  lastModified: number
}
