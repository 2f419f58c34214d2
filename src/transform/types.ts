/**
 * @module
 * The shapes this module works on. They mirror the domain model structurally, so that the
 * module stays free of imports from the rest of Junction.
 */

export type InputTransformer = { inputPathsMap?: Record<string, string>; inputTemplate: string }

/** What a target receives: the event, a constant, a part of the event, or a template. */
export type TargetInput =
  | { kind: 'event' }
  | { kind: 'constant'; input: string }
  | { kind: 'path'; inputPath: string }
  | { kind: 'transformer'; transformer: InputTransformer }

/** A matched event. */
export type EventInput = {
  /**
   * The envelope exactly as stored and delivered (compact JSON, key order version, id,
   * detail-type, source, account, time, region, resources, detail).
   */
  text: string
  /**
   * The same envelope parsed. Values are taken from `text` instead, so that numbers keep the
   * event's spelling (`300.0`, integers beyond 2^53); this is here for callers that have it.
   */
  object: Record<string, unknown>
}

/** Values of the predefined template variables. */
export type RuleContext = {
  ruleArn: string
  ruleName: string
  /** When EventBridge received the event, ISO-8601. */
  ingestionTime: string
}
