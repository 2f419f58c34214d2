/**
 * @module
 * The domain: buses, rules, targets, connections and API destinations as the engine sees them.
 * Wire shapes (PascalCase) stay in `api/`; the one exception is {@link Target.spec}, the target
 * exactly as PutTargets received it, kept so that ListTargetsByRule returns every field unchanged.
 */

/** The account and region a request acts in. */
export type Scope = { readonly account: string; readonly region: string }

export type EventBus = {
  name: string
  arn: string
  account: string
  region: string
  description?: string
  kmsKeyIdentifier?: string
  deadLetterArn?: string
  logConfig?: { includeDetail?: string | undefined; level?: string | undefined }
  policy?: string
  createdAt: number
  modifiedAt: number
}

export type RuleState = 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'

export type Rule = {
  name: string
  arn: string
  busName: string
  account: string
  region: string
  eventPattern?: string
  scheduleExpression?: string
  /**
   * Scheduled rules: ticks at or before this time (ms since the epoch) are never fired. Set when
   * the rule gets its schedule and when it is enabled again, so a new rule never fires ticks
   * from before it existed and a disabled one catches up on none. `rate()` counts from it.
   */
  scheduleSince?: number
  state: RuleState
  description?: string
  roleArn?: string
  managedBy?: string
  createdBy: string
  /** Set on an archive's managed rule: the store key of the archive that keeps what it matches. */
  archiveKey?: number
}

export type RetryPolicy = { maximumRetryAttempts: number; maximumEventAgeSeconds: number }

/** AWS's defaults: 185 attempts over at most 24 hours. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maximumRetryAttempts: 185,
  maximumEventAgeSeconds: 86_400,
}

export type InputTransformer = { inputPathsMap?: Record<string, string>; inputTemplate: string }

/** What the target receives: the event, a constant, a part of the event, or a template. */
export type TargetInput =
  | { kind: 'event' }
  | { kind: 'constant'; input: string }
  | { kind: 'path'; inputPath: string }
  | { kind: 'transformer'; transformer: InputTransformer }

export type HttpParameters = {
  pathParameterValues?: string[]
  headerParameters?: Record<string, string>
  queryStringParameters?: Record<string, string>
}

export type Target = {
  id: string
  arn: string
  roleArn?: string
  input: TargetInput
  retryPolicy: RetryPolicy
  deadLetterArn?: string
  httpParameters?: HttpParameters
  sqsMessageGroupId?: string
  /** The target as PutTargets received it (wire shape), returned verbatim by ListTargetsByRule. */
  spec: Record<string, unknown>
}

export type AuthorizationType = 'BASIC' | 'API_KEY' | 'OAUTH_CLIENT_CREDENTIALS'

export type ConnectionState =
  | 'CREATING'
  | 'UPDATING'
  | 'DELETING'
  | 'AUTHORIZED'
  | 'DEAUTHORIZED'
  | 'AUTHORIZING'
  | 'DEAUTHORIZING'
  | 'ACTIVE'
  | 'FAILED_CONNECTIVITY'

/** A header, query-string or body parameter of a connection. */
export type ConnectionParameter = { key: string; value: string; isValueSecret: boolean }

export type ConnectionHttpParameters = {
  headers: ConnectionParameter[]
  queryString: ConnectionParameter[]
  body: ConnectionParameter[]
}

export type ConnectionAuth =
  | { type: 'BASIC'; username: string; password: string }
  | { type: 'API_KEY'; apiKeyName: string; apiKeyValue: string }
  | {
      type: 'OAUTH_CLIENT_CREDENTIALS'
      authorizationEndpoint: string
      httpMethod: 'GET' | 'POST' | 'PUT'
      clientId: string
      clientSecret: string
      oauthHttpParameters: ConnectionHttpParameters
    }

export type Connection = {
  name: string
  arn: string
  account: string
  region: string
  description?: string
  auth: ConnectionAuth
  /** Parameters added to every invocation through this connection. */
  invocationHttpParameters: ConnectionHttpParameters
  state: ConnectionState
  stateReason?: string
  secretArn: string
  createdAt: number
  modifiedAt: number
  lastAuthorizedAt?: number
}

export type HttpMethod = 'POST' | 'GET' | 'HEAD' | 'OPTIONS' | 'PUT' | 'PATCH' | 'DELETE'

export type ApiDestination = {
  name: string
  arn: string
  account: string
  region: string
  description?: string
  connectionArn: string
  invocationEndpoint: string
  httpMethod: HttpMethod
  invocationRateLimitPerSecond: number
  createdAt: number
  modifiedAt: number
}

/** An event as stored and delivered: the envelope text EventBridge would deliver. */
export type StoredEvent = {
  id: string
  /** Bus the event was put on. */
  busArn: string
  /** The envelope, `{"version":"0","id":…,"detail":…}`, exactly as targets receive it. */
  text: string
  ingestedAt: number
  /** 1 when the event arrived through an event-bus target; such events are not forwarded again. */
  hops: number
}

/** One (event, rule, target) delivery still owed. */
export type DeliveryJob = {
  id: number
  eventId: string
  /** Bus the event was routed on (an event id can be on two buses after a bus-to-bus hop). */
  busArn: string
  ruleArn: string
  targetId: string
  /** Attempts made so far. */
  attempts: number
  /** When the next attempt is due (ms since epoch). */
  dueAt: number
}

export type ArchiveState =
  'ENABLED' | 'DISABLED' | 'CREATING' | 'UPDATING' | 'CREATE_FAILED' | 'UPDATE_FAILED'

/** An archive: keeps the events of one bus that its pattern matches, for replay and queries. */
export type Archive = {
  name: string
  arn: string
  /** The archive's key in the store's rows (a random integer; small rows archive faster than ARNs). */
  key: number
  account: string
  region: string
  /** The bus whose events it keeps (EventSourceArn); never changes. */
  sourceArn: string
  description?: string
  eventPattern?: string
  /** Days an event is kept; 0 keeps it forever. */
  retentionDays: number
  kmsKeyIdentifier?: string
  state: ArchiveState
  stateReason?: string
  /** The managed rule on the source bus that feeds it. */
  ruleArn: string
  createdAt: number
}

export type ReplayState =
  'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED'

/** Where a replay stands in its archive's order: after the event of (time, seq). */
export type ArchiveCursor = { time: number; seq: number }

export type Replay = {
  name: string
  arn: string
  account: string
  region: string
  description?: string
  /** The archive replayed (EventSourceArn). */
  archiveArn: string
  /** The bus the events go back onto (Destination.Arn), always the archive's source bus. */
  destinationArn: string
  /** Only these rules receive the replayed events (Destination.FilterArns); all when absent. */
  filterArns?: string[]
  /** The window on the events' `time` (ms), both ends included. */
  eventStartTime: number
  eventEndTime: number
  state: ReplayState
  stateReason?: string
  replayStartTime: number
  replayEndTime?: number
  /** The `time` of the last event replayed. */
  eventLastReplayedTime?: number
  /** The last event replayed; committed with the events it replays, so none is sent twice. */
  cursor?: ArchiveCursor
  /**
   * Pace (Junction's extension): 0 as fast as possible (AWS's behaviour), else the events are
   * spaced as their `time`s were, divided by this factor.
   */
  speed: number
}
