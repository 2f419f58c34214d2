/**
 * @module
 * Junction's public API. The pattern engine is also its own entry point, `junction/pattern`.
 */
export {
  checkPattern,
  createMatcher,
  explain,
  matchesPattern,
  PatternError,
  type Explanation,
  type Matcher,
} from './pattern/index.js'
