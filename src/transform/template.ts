/**
 * @module
 * InputTemplate text: where its placeholders are, and how AWS fills them in.
 *
 * A template whose first non-blank character is `{` or `[` is a JSON template; anything else
 * (a quoted string such as `"Event of <type>"`, several quoted lines, plain words) is a text
 * template. AWS documents objects (`{`) as JSON templates; lists (`[`) are our reading. What a
 * placeholder becomes, as recorded on AWS (the cells marked * are inferred, not recorded):
 *
 * | value       | JSON template, bare `<v>` | JSON template, `"…<v>…"` | text template        |
 * | ----------- | ------------------------- | ------------------------ | -------------------- |
 * | string      | JSON string `"abc"`       | raw `abc`, not escaped   | raw `abc`            |
 * | number etc. | literal `1.50`, `true`    | literal *                | literal              |
 * | object/list | JSON                      | JSON *, breaking the JSON | JSON without its `"` |
 * | missing     | `""`                      | nothing                  | nothing              |
 *
 * The output of a JSON template must parse as JSON, else AWS delivers nothing (recorded for
 * objects and lists in quotes). A text template is delivered as it comes out, even when it is
 * not JSON (several quoted lines were delivered).
 */

/** Variables every template may use without an InputPathsMap entry. */
export const PREDEFINED_VARIABLES: ReadonlySet<string> = new Set([
  'aws.events.rule-arn',
  'aws.events.rule-name',
  'aws.events.event.ingestion-time',
  'aws.events.event',
  'aws.events.event.json',
])

/** How one value is written in each of the three places a placeholder can stand. */
export type Rendering = {
  /** A bare JSON value in a JSON template. */
  readonly bare: string
  /** Inside a string literal of a JSON template. */
  readonly quoted: string
  /** Anywhere in a text template. */
  readonly text: string
}

/** An unresolved path: an empty string, whatever the context. */
export const MISSING: Rendering = { bare: '""', quoted: '', text: '' }

export function stringRendering(value: string, json: string = JSON.stringify(value)): Rendering {
  return { bare: json, quoted: value, text: value }
}

/** Numbers, booleans, null, objects and lists, from their JSON text. */
export function jsonRendering(json: string): Rendering {
  // in text, AWS drops every double quote of an object or list: {acc_id:0a787ecb-4015,sf_id:baz}
  const text = json.startsWith('{') || json.startsWith('[') ? json.replaceAll('"', '') : json
  return { bare: json, quoted: json, text }
}

type Token =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'placeholder'; readonly name: string; readonly quoted: boolean }

// `<` and `>` cannot be escaped in a template. A name holds no blank, so `a < b > c` stays text.
const PLACEHOLDER = /<([^<>\s]+)>/y

export function isJsonTemplate(template: string): boolean {
  const first = template.trimStart()[0]
  return first === '{' || first === '['
}

/** The template split into text and placeholders; `quoted` is tracked for JSON templates. */
function tokenize(template: string, json: boolean): Token[] {
  const tokens: Token[] = []
  let textStart = 0
  let inString = false
  let i = 0
  while (i < template.length) {
    const c = template[i]
    if (c === '<') {
      PLACEHOLDER.lastIndex = i
      const match = PLACEHOLDER.exec(template)
      if (match !== null) {
        if (i > textStart) tokens.push({ kind: 'text', text: template.slice(textStart, i) })
        tokens.push({ kind: 'placeholder', name: match[1]!, quoted: inString })
        i = textStart = PLACEHOLDER.lastIndex
        continue
      }
    } else if (json && c === '"') {
      inString = !inString
    } else if (json && inString && c === '\\' && template[i + 1] !== '<') {
      i += 2 // an escaped character, `\"` included, stays inside the string
      continue
    }
    i++
  }
  if (textStart < template.length) tokens.push({ kind: 'text', text: template.slice(textStart) })
  return tokens
}

/** Names of the placeholders, in order of first use. */
export function placeholderNames(template: string): string[] {
  const names = new Set<string>()
  for (const token of tokenize(template, false)) {
    if (token.kind === 'placeholder') names.add(token.name)
  }
  return [...names]
}

/**
 * Fills a template in. `resolve` gives a placeholder's value, or `undefined` for a name that is
 * no variable (PutTargets refuses such templates; if one gets here it is left as written).
 * `null` when a JSON template does not come out as JSON: AWS delivers nothing then.
 */
export function fillTemplate(
  template: string,
  resolve: (name: string) => Rendering | undefined,
): string | null {
  const json = isJsonTemplate(template)
  let out = ''
  for (const token of tokenize(template, json)) {
    if (token.kind === 'text') {
      out += token.text
      continue
    }
    const value = resolve(token.name)
    if (value === undefined) out += `<${token.name}>`
    else if (!json) out += value.text
    else out += token.quoted ? value.quoted : value.bare
  }
  return json && !isJson(out) ? null : out
}

export function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
