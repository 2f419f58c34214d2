/**
 * A pull reader over JSON text that reports errors in the words of Jackson, the parser behind
 * EventBridge's pattern compiler.
 *
 * Why our own reader: EventBridge validates a pattern while it streams through it, so for
 * `{"a": [{"prefix": [1, 2 3]}]}` the user sees `prefix match pattern must be a string` (found at
 * `[`) and not the syntax error further on. Reproducing that needs token-at-a-time reading, and
 * the syntax errors must read like Jackson's because SDK users and tests compare them.
 *
 * Numbers keep their source text (`300.0`, `3.018e2`) so that the compiler can quote it and
 * decide representability itself. Duplicate keys are not an error here.
 */

export type TokenKind =
  | 'startObject'
  | 'endObject'
  | 'startArray'
  | 'endArray'
  | 'fieldName'
  | 'string'
  | 'number'
  | 'true'
  | 'false'
  | 'null'
  | 'end'

/** Raised for malformed JSON; `offset` is where the reader stood. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError'
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

type Frame = { kind: 'object' | 'array'; start: number; expectValue: boolean; first: boolean }

const VALID_TOKENS = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"

export class JsonReader {
  private pos = 0
  private readonly stack: Frame[] = []
  private rootDone = false
  /** Text of the last string, field name or number token. */
  text = ''
  /** Where the last value token started: an object's or array's start, for error locations. */
  private tokenStart = 0

  constructor(readonly source: string) {}

  /** Where the reader stands, for error locations. */
  get position(): number {
    return this.pos
  }

  next(): TokenKind {
    const frame = this.stack[this.stack.length - 1]
    if (frame === undefined) {
      if (this.rootDone) return 'end'
      const c = this.skipSpace()
      if (c < 0) return 'end'
      this.rootDone = true
      return this.value(c)
    }
    return frame.kind === 'object' ? this.inObject(frame) : this.inArray(frame)
  }

  private inObject(frame: Frame): TokenKind {
    let c = this.skipSpace()
    if (frame.expectValue) {
      if (c !== 58 /* : */) {
        if (c < 0) throw this.eofError()
        throw this.unexpected(c, 'was expecting a colon to separate field name and value')
      }
      this.pos++
      frame.expectValue = false
      c = this.skipSpace()
      if (c < 0) throw this.eofError()
      return this.value(c)
    }
    if (c < 0) throw this.eofError()
    if (c === 125 /* } */ && frame.first) {
      this.pos++
      return this.close()
    }
    if (!frame.first) {
      if (c === 125) {
        this.pos++
        return this.close()
      }
      if (c === 93 /* ] */) throw this.closeMismatch(c, frame)
      if (c !== 44 /* , */)
        throw this.unexpected(c, 'was expecting comma to separate Object entries')
      this.pos++
      c = this.skipSpace()
      if (c < 0) throw this.eofError()
    } else if (c === 93) {
      throw this.closeMismatch(c, frame)
    }
    frame.first = false
    if (c !== 34 /* " */) throw this.unexpected(c, 'was expecting double-quote to start field name')
    this.text = this.readString()
    frame.expectValue = true
    return 'fieldName'
  }

  private inArray(frame: Frame): TokenKind {
    let c = this.skipSpace()
    if (c < 0) throw this.eofError()
    if (c === 93 /* ] */) {
      this.pos++
      return this.close()
    }
    if (!frame.first) {
      if (c === 125) throw this.closeMismatch(c, frame)
      if (c !== 44) throw this.unexpected(c, 'was expecting comma to separate Array entries')
      this.pos++
      c = this.skipSpace()
      if (c < 0) throw this.eofError()
    }
    frame.first = false
    return this.value(c)
  }

  private value(c: number): TokenKind {
    this.tokenStart = this.pos
    switch (c) {
      case 123: // {
        this.pos++
        this.stack.push({ kind: 'object', start: this.tokenStart, expectValue: false, first: true })
        return 'startObject'
      case 91: // [
        this.pos++
        this.stack.push({ kind: 'array', start: this.tokenStart, expectValue: false, first: true })
        return 'startArray'
      case 34: // "
        this.text = this.readString()
        return 'string'
      case 116: // t
        return this.literal('true')
      case 102: // f
        return this.literal('false')
      case 110: // n
        return this.literal('null')
      case 93: // ]
      case 125: // }
        if (c === 93 && this.top()?.kind === 'array') {
          // `[1,]`: Jackson reports the stray close as a missing value
          throw this.unexpected(c, 'expected a value')
        }
        throw this.closeMismatch(c, this.top())
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.readNumber()
        if (isIdentifierStart(c)) throw this.invalidToken(this.pos)
        throw this.unexpected(c, `expected a valid value ${VALID_TOKENS}`)
    }
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1]
  }

  private close(): TokenKind {
    const frame = this.stack.pop()!
    return frame.kind === 'object' ? 'endObject' : 'endArray'
  }

  private literal(word: 'true' | 'false' | 'null'): TokenKind {
    const s = this.source
    if (s.startsWith(word, this.pos)) {
      const after = s.charCodeAt(this.pos + word.length)
      if (!isIdentifierPart(after)) {
        this.pos += word.length
        return word
      }
    }
    throw this.invalidToken(this.pos)
  }

  private invalidToken(start: number): JsonSyntaxError {
    let end = start
    while (end < this.source.length && isIdentifierPart(this.source.charCodeAt(end))) end++
    if (end === start) end = start + 1
    const token = this.source.slice(start, end)
    return new JsonSyntaxError(
      `Unrecognized token '${token}': was expecting ${VALID_TOKENS}`,
      start,
    )
  }

  private readString(): string {
    const s = this.source
    const start = this.pos + 1
    let i = start
    let out = ''
    let chunk = start
    for (;;) {
      if (i >= s.length) {
        this.pos = i
        throw new JsonSyntaxError(
          'Unexpected end-of-input: was expecting closing quote for a string value',
          i,
        )
      }
      const c = s.charCodeAt(i)
      if (c === 34) break
      if (c < 32) {
        this.pos = i
        throw new JsonSyntaxError(
          `Illegal unquoted character ((CTRL-CHAR, code ${c})): has to be escaped using backslash to be included in string value`,
          i,
        )
      }
      if (c === 92 /* \ */) {
        out += s.slice(chunk, i)
        i = this.readEscape(i + 1, (piece) => (out += piece))
        chunk = i
        continue
      }
      i++
    }
    out += s.slice(chunk, i)
    this.pos = i + 1
    return out
  }

  /** Reads the escape after a backslash at `i`; returns the offset after it. */
  private readEscape(i: number, emit: (piece: string) => void): number {
    const s = this.source
    if (i >= s.length) {
      throw new JsonSyntaxError('Unexpected end-of-input in character escape sequence', i)
    }
    const c = s.charCodeAt(i)
    const simple = ESCAPES[c]
    if (simple !== undefined) {
      emit(simple)
      return i + 1
    }
    if (c === 117 /* u */) {
      const hex = s.slice(i + 1, i + 5)
      for (let k = 0; k < 4; k++) {
        const h = hex.charCodeAt(k)
        if (Number.isNaN(h)) {
          throw new JsonSyntaxError(
            'Unexpected end-of-input in character escape sequence',
            i + 1 + k,
          )
        }
        if (!isHex(h)) {
          throw new JsonSyntaxError(
            `Unexpected character (${describeChar(h)}): expected a hex-digit for character escape sequence`,
            i + 1 + k,
          )
        }
      }
      emit(String.fromCharCode(parseInt(hex, 16)))
      return i + 5
    }
    throw new JsonSyntaxError(`Unrecognized character escape ${describeChar(c)}`, i)
  }

  private readNumber(): TokenKind {
    const s = this.source
    const start = this.pos
    let i = start
    if (s.charCodeAt(i) === 45) {
      i++
      const d = s.charCodeAt(i)
      if (!(d >= 48 && d <= 57)) {
        if (Number.isNaN(d))
          throw new JsonSyntaxError('Unexpected end-of-input in a Number value', i)
        throw new JsonSyntaxError(
          `Unexpected character (${describeChar(d)}) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value`,
          i,
        )
      }
    }
    if (s.charCodeAt(i) === 48 && isDigit(s.charCodeAt(i + 1))) {
      throw new JsonSyntaxError('Invalid numeric value: Leading zeroes not allowed', i)
    }
    while (isDigit(s.charCodeAt(i))) i++
    if (s.charCodeAt(i) === 46 /* . */) {
      i++
      if (!isDigit(s.charCodeAt(i))) {
        throw new JsonSyntaxError(this.numberTail(i, 'Decimal point not followed by a digit'), i)
      }
      while (isDigit(s.charCodeAt(i))) i++
    }
    const e = s.charCodeAt(i)
    if (e === 101 || e === 69) {
      i++
      const sign = s.charCodeAt(i)
      if (sign === 43 || sign === 45) i++
      if (!isDigit(s.charCodeAt(i))) {
        throw new JsonSyntaxError(
          this.numberTail(i, 'Exponent indicator not followed by a digit'),
          i,
        )
      }
      while (isDigit(s.charCodeAt(i))) i++
    }
    const after = s.charCodeAt(i)
    if (isIdentifierPart(after) && after !== 45) {
      throw this.invalidToken(start)
    }
    this.text = s.slice(start, i)
    this.pos = i
    return 'number'
  }

  private numberTail(i: number, what: string): string {
    const c = this.source.charCodeAt(i)
    if (Number.isNaN(c)) return `Unexpected end-of-input in a Number value`
    return `Unexpected character (${describeChar(c)}) in numeric value: ${what}`
  }

  private skipSpace(): number {
    const s = this.source
    let i = this.pos
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        i++
        continue
      }
      this.pos = i
      return Number.isNaN(c) ? -1 : c
    }
  }

  private unexpected(c: number, what: string): JsonSyntaxError {
    return new JsonSyntaxError(`Unexpected character (${describeChar(c)}): ${what}`, this.pos)
  }

  private closeMismatch(c: number, frame: Frame | undefined): JsonSyntaxError {
    const ch = String.fromCharCode(c)
    if (frame === undefined) {
      return new JsonSyntaxError(`Unexpected close marker '${ch}': expected a value`, this.pos)
    }
    const want = frame.kind === 'object' ? '}' : ']'
    const what = frame.kind === 'object' ? 'Object' : 'Array'
    return new JsonSyntaxError(
      `Unexpected close marker '${ch}': expected '${want}' (for ${what} starting at ${sourceRef(this.source, frame.start)})`,
      this.pos,
    )
  }

  private eofError(): JsonSyntaxError {
    const frame = this.top()
    const what = frame?.kind === 'array' ? 'Array' : 'Object'
    const at =
      frame === undefined ? '' : ` (start marker at ${sourceRef(this.source, frame.start)})`
    return new JsonSyntaxError(
      `Unexpected end-of-input: expected close marker for ${what}${at}`,
      this.pos,
    )
  }
}

const ESCAPES: Record<number, string> = {
  34: '"',
  92: '\\',
  47: '/',
  98: '\b',
  102: '\f',
  110: '\n',
  114: '\r',
  116: '\t',
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}

/** Jackson collects a bad token while characters could continue a Java identifier. */
function isIdentifierStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127
}

function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || isDigit(c)
}

function describeChar(c: number): string {
  if (c < 32) return `CTRL-CHAR, code ${c}`
  return `'${String.fromCharCode(c)}' (code ${c})`
}

/** Jackson's location text: `[Source: (String)"…"; line: 1, column: 9]`. */
export function sourceRef(source: string, offset: number): string {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  const max = 500
  const shown =
    source.length > max
      ? `${source.slice(0, max)}"[truncated ${source.length - max} chars]`
      : `${source}"`
  return `[Source: (String)"${shown}; line: ${line}, column: ${offset - lineStart + 1}]`
}
