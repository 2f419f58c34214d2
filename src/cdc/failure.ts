/**
 * @module
 * A source failure that retrying cannot fix (the database's configuration, a privilege, a lost
 * slot): the source stops with this message, which says what to do, instead of retrying.
 */
export class NeedsOperator extends Error {
  readonly needsHuman = true

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NeedsOperator'
  }
}

/** Whether an error is one retrying cannot fix (any kind's source may mark its errors so). */
export const needsHuman = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { needsHuman?: unknown }).needsHuman === true
