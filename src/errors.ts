/**
 * @module
 * The errors Junction answers with. Codes are AWS's, so the api layer maps a {@link BusError}
 * straight to `{"__type": code, "message": …}`; clients see exactly what EventBridge would send.
 */

/** AWS error code → HTTP status. */
export const ERROR_STATUS = {
  AccessDeniedException: 400,
  ConcurrentModificationException: 400,
  IllegalStatusException: 400,
  InternalException: 500,
  InvalidEventPatternException: 400,
  InvalidStateException: 400,
  LimitExceededException: 400,
  ManagedRuleException: 400,
  OperationDisabledException: 400,
  PolicyLengthExceededException: 400,
  ResourceAlreadyExistsException: 400,
  ResourceNotFoundException: 400,
  ThrottlingException: 400,
  ValidationException: 400,
  SerializationException: 400,
  UnknownOperationException: 400,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 400,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
  InvalidAction: 400,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export class BusError extends Error {
  readonly code: ErrorCode
  readonly status: number

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = code
    this.code = code
    this.status = ERROR_STATUS[code]
  }
}

export const notFound = (message: string) => new BusError('ResourceNotFoundException', message)
export const invalid = (message: string) => new BusError('ValidationException', message)
