/**
 * @module
 * Watches the directories of functions whose code is used in place (see `code-dir.ts`): a
 * change under a directory, after a quiet spell (debounced), calls `changed` with the watch's
 * key. `node_modules` and dot-names are neither watched nor reported.
 *
 * Each directory of the tree gets its own (non-recursive) `fs.watch`, and directories created
 * later get theirs when they appear. Node 20's `recursive: true` on Linux would also watch every
 * file and every directory of `node_modules`, which a function's own dependencies can make
 * thousands of inotify watches. Handles are unref'd, so a forgotten watch never keeps the
 * process alive.
 *
 * Single-threaded: every method is called from the event loop; the `changed` callback is not
 * awaited here (the caller serialises its own work per key).
 */
import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs'
import { join, sep } from 'node:path'
import { ignoredDir } from './code-dir.js'

export type CodeWatchOptions = {
  /** Quiet time after the last change before `changed` (ms). @default 300 */
  debounceMs?: number
  changed(key: string, dir: string): void
  /** The watch could not start or its directory went away: it stops. */
  failed(key: string, dir: string, error: Error): void
}

type Tree = {
  dir: string
  /** One watcher per directory of the tree, by absolute path. */
  watchers: Map<string, FSWatcher>
  timer?: NodeJS.Timeout
}

export class CodeWatches {
  private readonly trees = new Map<string, Tree>()
  private readonly debounceMs: number

  constructor(private readonly options: CodeWatchOptions) {
    this.debounceMs = options.debounceMs ?? 300
  }

  /** Watches `dir` under `key`, replacing any earlier watch of that key (a no-op if the same). */
  watch(key: string, dir: string): void {
    const existing = this.trees.get(key)
    if (existing?.dir === dir) return
    if (existing) this.unwatch(key)
    const tree: Tree = { dir, watchers: new Map() }
    this.trees.set(key, tree)
    try {
      this.add(key, tree, dir)
    } catch (e) {
      this.unwatch(key)
      this.options.failed(key, dir, e as Error)
    }
  }

  unwatch(key: string): void {
    const tree = this.trees.get(key)
    if (!tree) return
    clearTimeout(tree.timer)
    for (const w of tree.watchers.values()) w.close()
    this.trees.delete(key)
  }

  /** The directory watched under `key`, if any. */
  watched(key: string): string | undefined {
    return this.trees.get(key)?.dir
  }

  close(): void {
    for (const key of [...this.trees.keys()]) this.unwatch(key)
  }

  /** Watches `dir` and the directories under it (the root's errors are thrown). */
  private add(key: string, tree: Tree, dir: string): void {
    if (tree.watchers.has(dir)) return
    const watcher = watch(dir, { persistent: false }, (event, name) => {
      if (typeof name === 'string' && ignoredDir(name)) return
      if (event === 'rename' && typeof name === 'string') this.renamed(key, tree, join(dir, name))
      this.touched(key, tree)
    })
    watcher.unref()
    watcher.on('error', (e) => {
      if (this.trees.get(key) !== tree) return
      if (dir === tree.dir) {
        this.unwatch(key)
        this.options.failed(key, dir, e)
      } else this.drop(tree, dir)
    })
    tree.watchers.set(dir, watcher)
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory() && !ignoredDir(entry.name)) {
        try {
          this.add(key, tree, join(dir, entry.name))
        } catch {
          // Gone or unreadable meanwhile: its parent's watch still reports its name.
        }
      }
  }

  /** A name appeared or went away: a new directory is watched, a removed one forgotten. */
  private renamed(key: string, tree: Tree, path: string): void {
    if (this.trees.get(key) !== tree) return
    let isDir = false
    try {
      isDir = statSync(path).isDirectory()
    } catch {
      // Removed.
    }
    if (isDir) {
      try {
        this.add(key, tree, path)
      } catch {
        // Gone again already.
      }
    } else this.drop(tree, path)
  }

  /** Stops watching `dir` and everything under it (it was removed). */
  private drop(tree: Tree, dir: string): void {
    for (const [path, w] of tree.watchers)
      if (path === dir || path.startsWith(dir + sep)) {
        w.close()
        tree.watchers.delete(path)
      }
  }

  private touched(key: string, tree: Tree): void {
    if (this.trees.get(key) !== tree) return
    clearTimeout(tree.timer)
    tree.timer = setTimeout(() => {
      delete tree.timer
      if (this.trees.get(key) === tree) this.options.changed(key, tree.dir)
    }, this.debounceMs)
    tree.timer.unref()
  }
}
