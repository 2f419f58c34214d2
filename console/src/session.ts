/**
 * @module
 * The signed-in keys: kept in sessionStorage only (gone when the tab closes, never sent
 * anywhere but in signatures), several of them to switch between accounts.
 */
import type { Identity } from './aws/client.js'

const KEY = 'junction.console.identities'

export type Session = { identities: Identity[]; active: number }

export function loadSession(): Session {
  try {
    const raw = sessionStorage.getItem(KEY)
    if (raw !== null) return JSON.parse(raw) as Session
  } catch {
    // unreadable: start signed out
  }
  return { identities: [], active: 0 }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s))
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY)
}
