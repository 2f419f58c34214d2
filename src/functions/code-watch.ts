/**
 * @module
 * Watches the directories of functions whose code is used in place (see `code-dir.ts`): a
 * change under a directory, after a quiet spell (debounced), calls `changed` with the watch's
 * key. Changes under `node_modules` and dot-directories are ignored. `fs.watch` with
 * `recursive: true` (inotify on Linux, from Node 20) does the watching; its handles are unref'd
 * so a forgotten watch never keeps the process alive.
 *
 * Single-threaded: every method is called from the event loop; `changed` never overlaps itself
 * for one key only if the caller awaits its own work (the callback is not awaited here).
 */
import { type FSWatcher, watch } from 'node:fs'
import { ignoredDir } from './code-dir.js'

export type CodeWatchOptions = {
  /** Quiet time after the last change before `changed` (ms). @default 300 */
  debounceMs?: number
  changed(key: string, dir: string): void
  /** A watch failed (the directory vanished, too many watches): it stops. */
  failed(key: string, dir: string, error: Error): void
}

type Watch = { dir: string; watcher: FSWatcher; timer?: NodeJS.Timeout }

export class CodeWatches {
  private readonly watches = new Map<string, Watch>()
  private readonly debounceMs: number

  constructor(private readonly options: CodeWatchOptions) {
    this.debounceMs = options.debounceMs ?? 300
  }

  /** Watches `dir` under `key`, replacing any earlier watch of that key (a no-op if the same). */
  watch(key: string, dir: string): void {
    const existing = this.watches.get(key)
    if (existing?.dir === dir) return
    if (existing) this.unwatch(key)
    let watcher: FSWatcher
    try {
      watcher = watch(dir, { recursive: true, persistent: false }, (_event, file) => {
        if (typeof file === 'string' && file.split(/[\\/]/).some((part) => ignoredDir(part)))
          return
        this.touched(key)
      })
    } catch (e) {
      this.options.failed(key, dir, e as Error)
      return
    }
    watcher.on('error', (e) => {
      if (this.watches.get(key)?.watcher !== watcher) return
      this.unwatch(key)
      this.options.failed(key, dir, e)
    })
    watcher.unref()
    this.watches.set(key, { dir, watcher })
  }

  unwatch(key: string): void {
    const w = this.watches.get(key)
    if (!w) return
    clearTimeout(w.timer)
    w.watcher.close()
    this.watches.delete(key)
  }

  /** The directory watched under `key`, if any. */
  watched(key: string): string | undefined {
    return this.watches.get(key)?.dir
  }

  close(): void {
    for (const key of [...this.watches.keys()]) this.unwatch(key)
  }

  private touched(key: string): void {
    const w = this.watches.get(key)
    if (!w) return
    clearTimeout(w.timer)
    w.timer = setTimeout(() => {
      delete w.timer
      if (this.watches.get(key) === w) this.options.changed(key, w.dir)
    }, this.debounceMs)
    w.timer.unref()
  }
}
