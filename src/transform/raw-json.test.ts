import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { evaluatePath, parsePath, selectNodes } from './json-path.js'
import { rawJson } from './raw-json.js'

const runs = Number(process.env.PROPERTY_RUNS ?? 1000)

/** What a path selects in the text, as JSON text: one value, or a list for wildcard paths. */
function selectText(text: string, path: string): string | undefined {
  const doc = rawJson(text)
  const parsed = parsePath(path)!
  const nodes = selectNodes(doc.root, parsed.steps, doc.tree)
  if (parsed.definite) return nodes[0] && doc.slice(nodes[0])
  return nodes.length === 0 ? undefined : `[${nodes.map(doc.slice).join(',')}]`
}

test('values keep their spelling: number literals, big integers, escapes, inner blanks', () => {
  const text =
    '{"a": 300.0, "big": 12345678901234567890, "e": 1E+2, "s": "caf\\u00e9 \\"q\\"", "o": { "k" : [ 1 , 2 ] }}'
  assert.equal(selectText(text, '$.a'), '300.0')
  assert.equal(selectText(text, '$.big'), '12345678901234567890')
  assert.equal(selectText(text, '$.e'), '1E+2')
  assert.equal(selectText(text, '$.s'), '"caf\\u00e9 \\"q\\""')
  assert.equal(selectText(text, '$.o'), '{ "k" : [ 1 , 2 ] }')
  assert.equal(selectText(text, '$.o.k[1]'), '2')
  assert.equal(selectText(text, '$.o.k[*]'), '[1,2]')
  const doc = rawJson(text)
  assert.equal(doc.decode(doc.tree.member(doc.root, 's')!), 'café "q"')
})

test('keys with escapes, braces and quotes inside strings do not confuse the scanner', () => {
  const text = '{"x\\"y": 1, "t": "}]\\\\", "n": {"a\\u0062": "{[\\"", "z": [[], {}, ""]}}'
  assert.equal(selectText(text, '$.t'), '"}]\\\\"')
  assert.equal(selectText(text, '$.n.ab'), '"{[\\""')
  assert.equal(selectText(text, '$.n.z'), '[[], {}, ""]')
  assert.equal(selectText(text, '$.n.z[*]'), '[[],{},""]')
  const doc = rawJson(text)
  assert.deepEqual([...doc.tree.children(doc.root)].map(doc.slice), [
    '1',
    '"}]\\\\"',
    '{"a\\u0062": "{[\\"", "z": [[], {}, ""]}',
  ])
})

test('a repeated key takes its last value in its first position, as JSON.parse does', () => {
  const text = '{"a": 1, "b": 2, "a": 3}'
  assert.equal(selectText(text, '$.a'), '3')
  assert.equal(selectText(text, '$.*'), '[3,2]')
  assert.deepEqual(evaluatePath(JSON.parse(text), '$.*'), [3, 2])
})

test('deep nesting is navigated without recursion', () => {
  const depth = 100_000
  const text = `{"deep": ${'['.repeat(depth)}${']'.repeat(depth)}, "after": "ok"}`
  assert.equal(selectText(text, '$.after'), '"ok"')
})

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

// keys a dot-notation path can name, and some it cannot
const key = fc.oneof(
  fc.constantFrom('a', 'b', 'detail-type', 'x_y', 'p/q', '0', '__proto__'),
  fc.string({ maxLength: 4 }),
)
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string({ maxLength: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
    fc.constantFrom(true, false, null, 0, -1, 1e21),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value

/** Paths to every value reachable by dot notation, and with wildcards in place of steps. */
function pathsOf(value: Json, prefix = '$', out: string[] = []): string[] {
  out.push(prefix)
  if (Array.isArray(value)) {
    value.forEach((item, i) => pathsOf(item, `${prefix}[${i}]`, out))
    out.push(`${prefix}[*]`, `${prefix}[${value.length}]`)
  } else if (value !== null && typeof value === 'object') {
    for (const [k, item] of Object.entries(value)) {
      if (parsePath(`$.${k}`) !== null) pathsOf(item, `${prefix}.${k}`, out)
    }
    out.push(`${prefix}.*`, `${prefix}.missing`)
  }
  return out
}

test('property: on raw text, a path selects what it selects on the parsed value', () => {
  fc.assert(
    fc.property(json, fc.boolean(), (value, spaced) => {
      const text = JSON.stringify(value, null, spaced ? 2 : undefined)
      const parsed = JSON.parse(text) as Json
      for (const path of pathsOf(parsed)) {
        const expected = evaluatePath(parsed, path)
        const raw = selectText(text, path)
        if (expected === undefined) assert.equal(raw, undefined, path)
        else assert.deepEqual(JSON.parse(raw!), expected, path)
      }
    }),
    { numRuns: runs },
  )
})
