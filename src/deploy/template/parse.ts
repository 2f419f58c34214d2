/**
 * @module
 * Template text to plain data: YAML (with CloudFormation's short-form tags turned into the long
 * forms) or JSON, keeping the 1-based line of every mapping, sequence and key in a {@link Lines}
 * side table so later errors can name where in the file they are.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Pair,
  parseDocument,
  Scalar,
  YAMLMap,
  type CollectionTag,
  type Document,
  type ScalarTag,
} from 'yaml'
import { TemplateError } from '../model.js'

/** Where things were in the template: lines of objects and arrays, and of each key of an object. */
export class Lines {
  private readonly lines = new WeakMap<object, number>()
  private readonly keyLines = new WeakMap<object, Map<string, number>>()

  set(value: object, line: number | undefined): void {
    if (line !== undefined) this.lines.set(value, line)
  }
  of(value: unknown): number | undefined {
    return typeof value === 'object' && value !== null ? this.lines.get(value) : undefined
  }
  setKey(owner: object, key: string, line: number): void {
    let keys = this.keyLines.get(owner)
    if (keys === undefined) this.keyLines.set(owner, (keys = new Map<string, number>()))
    keys.set(key, line)
  }
  /** The line of the key itself, when known. */
  keyLine(owner: object, key: string): number | undefined {
    return this.keyLines.get(owner)?.get(key)
  }
  /** The line of `owner[key]`: the key's own line, else the owner's. */
  key(owner: object, key: string): number | undefined {
    return this.keyLines.get(owner)?.get(key) ?? this.lines.get(owner)
  }
}

export type Parsed = { body: unknown; lines: Lines }

/** Short form (without the `!`) → long form. */
const SHORT_FORMS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Sub: 'Fn::Sub',
  GetAtt: 'Fn::GetAtt',
  Join: 'Fn::Join',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Not: 'Fn::Not',
  FindInMap: 'Fn::FindInMap',
  Base64: 'Fn::Base64',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Cidr: 'Fn::Cidr',
  Transform: 'Fn::Transform',
  ToJsonString: 'Fn::ToJsonString',
  Length: 'Fn::Length',
}

/** `A.B.C` → `['A', 'B.C']`: the resource name never has a dot, an attribute name may. */
export function splitGetAtt(text: string): string[] {
  const dot = text.indexOf('.')
  return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)]
}

function shortFormTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = []
  for (const [short, long] of Object.entries(SHORT_FORMS)) {
    const tag = `!${short}`
    tags.push({
      tag,
      resolve: (text: string) => ({ [long]: short === 'GetAtt' ? splitGetAtt(text) : text }),
    })
    for (const collection of ['map', 'seq'] as const) {
      tags.push({
        tag,
        collection,
        resolve: (value) => {
          const wrapper = new YAMLMap()
          const key = new Scalar(long)
          key.range = value.range
          wrapper.items.push(new Pair(key, value))
          return wrapper
        },
      })
    }
  }
  return tags
}

const TAGS = shortFormTags()

/** Parses YAML or JSON template text; `name` is used in messages only. */
export function parseTemplateText(text: string, name: string): Parsed {
  if (name.endsWith('.json')) return parseJson(text, name)
  // A template starting with `{` is JSON, unless JSON refuses it: then it is YAML flow style.
  if (text.trimStart().startsWith('{') && isJson(text)) return parseJson(text, name)
  const parsed = parseYaml(text)
  if ('error' in parsed) throw new TemplateError(`${name}: ${parsed.error}`, parsed.line)
  return parsed
}

function parseYaml(text: string): Parsed | { error: string; line: number | undefined } {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, customTags: TAGS, prettyErrors: true })
  const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED')
  if (problem !== undefined) {
    const line = problem.linePos?.[0].line
    const unknownTag = /Unresolved tag: (\S+)/.exec(problem.message)
    const error =
      unknownTag !== null
        ? `unknown tag ${unknownTag[1] ?? ''}; the supported short forms are ${Object.keys(
            SHORT_FORMS,
          )
            .map((s) => `!${s}`)
            .join(', ')}`
        : `invalid YAML: ${problem.message.split('\n')[0] ?? problem.message}`
    return { error, line }
  }
  const lines = new Lines()
  const lineOf = (range: readonly number[] | null | undefined) =>
    range == null ? undefined : counter.linePos(range[0] ?? 0).line
  const body = toPlain(doc.contents, doc, lines, lineOf)
  return { body, lines }
}

type LineOf = (range: readonly number[] | null | undefined) => number | undefined

function toPlain(node: unknown, doc: Document, lines: Lines, lineOf: LineOf): unknown {
  if (isAlias(node)) return toPlain(node.resolve(doc), doc, lines, lineOf)
  if (isScalar(node)) {
    const value = node.value
    if (typeof value === 'object' && value !== null) lines.set(value, lineOf(node.range))
    // An unquoted 012345678901 (an account id, say) keeps its digits.
    if (typeof value === 'number' && node.source !== undefined && String(value) !== node.source) {
      return /^[-+]?0\d/.test(node.source) ? node.source : value
    }
    return value
  }
  if (isSeq(node)) {
    const out = node.items.map((item) => toPlain(item, doc, lines, lineOf))
    lines.set(out, lineOf(node.range))
    return out
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {}
    lines.set(out, lineOf(node.range))
    for (const pair of node.items) {
      const key = String(toPlain(pair.key, doc, lines, lineOf))
      define(out, key, toPlain(pair.value, doc, lines, lineOf))
      const keyLine = lineOf((pair.key as { range?: number[] } | null)?.range)
      if (keyLine !== undefined) lines.setKey(out, key, keyLine)
    }
    return out
  }
  return node ?? null
}

/** Sets a key without ever touching the prototype (a key may be `__proto__`). */
export function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function parseJson(text: string, name: string): Parsed {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    const message = (err as Error).message
    throw new TemplateError(`${name}: invalid JSON: ${message}`, jsonErrorLine(text, message))
  }
  // JSON is YAML: the YAML parser gives the lines of every object; if it balks at some JSON
  // nicety, resources still get their lines by a scan of the text.
  const viaYaml = parseYaml(text)
  if (!('error' in viaYaml)) return viaYaml
  const lines = new Lines()
  scanResourceLines(text, body, lines)
  return { body, lines }
}

function jsonErrorLine(text: string, message: string): number | undefined {
  const lineCol = /line (\d+) column/.exec(message)
  if (lineCol !== null) return Number(lineCol[1])
  const position = /position (\d+)/.exec(message)
  if (position === null) return undefined
  return text.slice(0, Number(position[1])).split('\n').length
}

function scanResourceLines(text: string, body: unknown, lines: Lines): void {
  const resources = (body as { Resources?: unknown } | null)?.Resources
  if (typeof resources !== 'object' || resources === null) return
  const start = text.indexOf('"Resources"')
  for (const id of Object.keys(resources)) {
    const at = text.indexOf(`"${id}"`, start)
    if (at >= 0) lines.setKey(resources, id, text.slice(0, at).split('\n').length)
  }
}
