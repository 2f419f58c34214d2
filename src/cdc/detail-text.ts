/**
 * @module
 * A change's detail as JSON text, built once: the oversize check measures it and the envelope
 * embeds it, and stringifying every change twice was a tenth of a source's time (profiled).
 */
import type { Change } from './model.js'

const texts = new WeakMap<object, string>()

export function detailText(change: Change): string {
  let text = texts.get(change.detail)
  if (text === undefined) {
    text = JSON.stringify(change.detail)
    texts.set(change.detail, text)
  }
  return text
}
