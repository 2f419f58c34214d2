/**
 * Case folding for `equals-ignore-case` and the ignore-case forms of prefix, suffix and
 * anything-but. Both the pattern value and the event value are lower-cased with Unicode's
 * default mapping, so `"Straße"` and `"STRASSE"` compare by their lower-case forms. EventBridge
 * compares each UTF-16 unit against its upper and lower case instead; the two agree on every
 * character whose case mapping is one-to-one (all of ASCII and most scripts). See
 * docs/patterns.md for the few characters where they differ.
 */
export function fold(text: string): string {
  return text.toLowerCase()
}

export const foldPattern = fold
