/**
 * @module
 * Lambda's errors on the wire: the status the model gives each code, the code in
 * `x-amzn-ErrorType`, and a body `{"Type": "User", "message": …}` (`Message` for the two shapes
 * the model spells so: ResourceNotFoundException and ServiceException).
 */

export type LambdaErrorCode =
  | 'InvalidParameterValueException'
  | 'ValidationException'
  | 'ResourceNotFoundException'
  | 'ResourceConflictException'
  | 'PreconditionFailedException'
  | 'TooManyRequestsException'
  | 'RequestTooLargeException'
  | 'RequestEntityTooLargeException'
  | 'UnsupportedMediaTypeException'
  | 'InvalidRequestContentException'
  | 'ServiceException'
  | 'UnknownOperationException'

const STATUS: Record<LambdaErrorCode, number> = {
  InvalidParameterValueException: 400,
  ValidationException: 400,
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
  PreconditionFailedException: 412,
  TooManyRequestsException: 429,
  RequestTooLargeException: 413,
  RequestEntityTooLargeException: 413,
  UnsupportedMediaTypeException: 415,
  InvalidRequestContentException: 400,
  ServiceException: 500,
  UnknownOperationException: 404,
}

export class LambdaError extends Error {
  readonly status: number
  constructor(
    readonly code: LambdaErrorCode,
    message: string,
    /** More body members (TooManyRequestsException's `Reason`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.status = STATUS[code]
  }

  body(): Record<string, unknown> {
    const server = this.code === 'ServiceException'
    const key = server || this.code === 'ResourceNotFoundException' ? 'Message' : 'message'
    return { Type: server ? 'Service' : 'User', [key]: this.message, ...this.extra }
  }
}

/** Collects the model's constraint failures into Lambda's `N validation errors detected: …`. */
export class Constraints {
  private readonly failures: string[] = []

  add(value: unknown, member: string, constraint: string): void {
    const shown = typeof value === 'string' ? value : JSON.stringify(value)
    this.failures.push(
      `Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`,
    )
  }

  length(value: string | undefined, member: string, min: number, max?: number): void {
    if (value === undefined) return
    if (value.length < min)
      this.add(value, member, `Member must have length greater than or equal to ${String(min)}`)
    else if (max !== undefined && value.length > max)
      this.add(value, member, `Member must have length less than or equal to ${String(max)}`)
  }

  pattern(value: string | undefined, member: string, pattern: string): void {
    if (value === undefined) return
    if (!new RegExp(`^(?:${pattern})$`).test(value))
      this.add(value, member, `Member must satisfy regular expression pattern: ${pattern}`)
  }

  range(value: number | undefined, member: string, min?: number, max?: number): void {
    if (value === undefined) return
    if (min !== undefined && value < min)
      this.add(value, member, `Member must have value greater than or equal to ${String(min)}`)
    else if (max !== undefined && value > max)
      this.add(value, member, `Member must have value less than or equal to ${String(max)}`)
  }

  enumeration(value: string | undefined, member: string, values: readonly string[]): void {
    if (value === undefined || values.includes(value)) return
    this.add(value, member, `Member must satisfy enum value set: [${values.join(', ')}]`)
  }

  check(): void {
    const n = this.failures.length
    if (n === 0) return
    throw new LambdaError(
      'ValidationException',
      `${String(n)} validation error${n === 1 ? '' : 's'} detected: ${this.failures.join('; ')}`,
    )
  }
}

export const invalidParameter = (message: string) =>
  new LambdaError('InvalidParameterValueException', message)
