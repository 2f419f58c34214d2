/**
 * @module
 * Function code used in place from a local directory: the convention LocalStack uses for mounted
 * code, `Code: {S3Bucket: "hot-reload", S3Key: "/absolute/dir"}` in CreateFunction and
 * UpdateFunctionCode. Nothing is copied, so a handler resolves its own and its project's
 * `node_modules` by Node's usual walk up from the directory. The function's `CodeSha256` is a
 * hash over the directory's files (paths and contents) and `CodeSize` their total size, both
 * leaving out `node_modules` and names starting with a dot, which the watch ignores too.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'

/** The S3Bucket that marks `S3Key` as a local directory. */
export const HOT_RELOAD_BUCKET = 'hot-reload'

/** Names neither hashed nor watched: dependencies and dot-names (`.git`, editors' swap files). */
export function ignoredDir(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.')
}

export type DirectoryDigest = { sha256: string; size: number }

/**
 * Why a path cannot be a function's code directory, or undefined when it can (it is absolute,
 * exists and is a directory).
 */
export async function codeDirectoryProblem(dir: string): Promise<string | undefined> {
  if (!isAbsolute(dir)) return `The code directory must be an absolute path: ${dir}`
  try {
    const s = await stat(dir)
    if (!s.isDirectory()) return `The code directory is not a directory: ${dir}`
  } catch {
    return `The code directory does not exist: ${dir}`
  }
  return undefined
}

/**
 * Base64 SHA-256 over every file under `dir` (sorted relative paths, each with its content's own
 * digest), and the files' total size.
 * @example
 * const { sha256, size } = await hashDirectory('/home/me/app/handler')
 */
export async function hashDirectory(dir: string): Promise<DirectoryDigest> {
  const files: string[] = []
  await walk(dir, '', files)
  files.sort()
  const all = createHash('sha256')
  let size = 0
  for (const rel of files) {
    let data: Buffer
    try {
      data = await readFile(join(dir, rel))
    } catch {
      continue // removed while we walked: the next change hashes again
    }
    size += data.length
    all.update(rel).update('\0').update(createHash('sha256').update(data).digest()).update('\0')
  }
  return { sha256: all.digest('base64'), size }
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const entries = await readdir(join(root, rel), { withFileTypes: true })
  for (const e of entries) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`
    if (ignoredDir(e.name)) continue
    if (e.isDirectory()) await walk(root, path, out)
    else if (e.isFile()) out.push(path)
  }
}
