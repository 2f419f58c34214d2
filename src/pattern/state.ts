/**
 * A state of the rule automaton: the rules whose every field test is satisfied on arrival, and
 * the transitions on further fields. States form a tree: an edge's next state belongs to that
 * edge alone, so two rules share a state only when they share every field test before it.
 */
import { FieldIndex } from './field-index.js'

export class State {
  /** Rules that match on reaching this state, with how many of their branches end here. */
  readonly rules = new Map<string, number>()
  /** Transitions by path id. */
  readonly fields = new Map<number, FieldIndex>()
  /** Marks a state already explored for the current event (see `Matcher.matches`). */
  seen = 0

  index(pathId: number): FieldIndex {
    let index = this.fields.get(pathId)
    if (index === undefined) this.fields.set(pathId, (index = new FieldIndex()))
    return index
  }
}
