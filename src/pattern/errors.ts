/** Why a pattern was refused, worded as EventBridge words it. */
export class PatternError extends Error {
  override readonly name = 'PatternError'
  /** The AWS error code a client should see. */
  readonly code: 'InvalidEventPatternException' | 'ValidationException'
  /** The reason alone, without the `Event pattern is not valid.` wrapper or location. */
  readonly reason: string

  constructor(
    reason: string,
    options: { location?: string; code?: PatternError['code']; message?: string } = {},
  ) {
    const location = options.location === undefined ? '' : `\n at ${options.location}`
    super(options.message ?? `Event pattern is not valid. Reason: ${reason}${location}`)
    this.code = options.code ?? 'InvalidEventPatternException'
    this.reason = reason
  }
}
