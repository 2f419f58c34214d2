/**
 * @module
 * A function's deployment package: the zip as uploaded (kept, so GetFunction's `Code.Location`
 * can serve it) and its unpacked files, at `<root>/<account>/<region>/<name>/<hex sha>/`. The zip
 * is read here rather than by an unzip program so that every entry's path and type is checked
 * before a byte is written: no entry may land outside the directory (zip-slip), symbolic links
 * are only made when they point inside it, and the unpacked size is bounded as Lambda bounds it.
 */
import { createHash, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path'
import { inflateRawSync } from 'node:zlib'

/** Lambda's limit on a zip uploaded in the request (50 MB). */
export const MAX_ZIPPED = 50 * 1024 * 1024
/** Lambda's limit on the unpacked code (250 MB). */
export const MAX_UNZIPPED = 262_144_000

/** Why a package is refused, with the code Lambda answers. */
export class CodeError extends Error {
  constructor(
    readonly code: 'InvalidParameterValueException' | 'RequestEntityTooLargeException',
    message: string,
  ) {
    super(message)
  }
}

export type StoredCode = {
  /** Base64 SHA-256 of the zip (Lambda's `CodeSha256`). */
  sha256: string
  size: number
  dir: string
  zipFile: string
}

type Entry = {
  name: string
  method: number
  compressed: number
  size: number
  offset: number
  mode: number
}

const invalidZip = () =>
  new CodeError(
    'InvalidParameterValueException',
    'Could not unzip uploaded file. Please check your file, then try to upload again.',
  )

/** Unpacks `zip` under `root` (idempotent: the same zip lands in the same directory). */
export async function storeCode(
  root: string,
  where: { account: string; region: string; name: string },
  zip: Buffer,
): Promise<StoredCode> {
  if (zip.length > MAX_ZIPPED)
    throw new CodeError(
      'RequestEntityTooLargeException',
      `Zipped size must be smaller than ${String(MAX_ZIPPED)} bytes`,
    )
  const digest = createHash('sha256').update(zip).digest()
  const base = join(root, where.account, where.region, where.name)
  const dir = join(base, digest.toString('hex'))
  const zipFile = `${dir}.zip`
  const stored = { sha256: digest.toString('base64'), size: zip.length, dir, zipFile }
  if (existsSync(dir) && existsSync(zipFile)) return stored
  const entries = readEntries(zip)
  let total = 0
  for (const e of entries) total += e.size
  if (total >= MAX_UNZIPPED)
    throw new CodeError(
      'InvalidParameterValueException',
      `Unzipped size must be smaller than ${String(MAX_UNZIPPED)} bytes`,
    )
  // Unpacked beside its final place and renamed, so a half-written directory is never used.
  const staging = join(base, `.staging-${randomUUID()}`)
  try {
    await mkdir(staging, { recursive: true })
    for (const e of entries) await writeEntry(staging, zip, e)
    await rm(dir, { recursive: true, force: true })
    await rename(staging, dir)
    await writeFile(zipFile, zip)
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return stored
}

/** The central directory's entries (the End Of Central Directory record is found from the end). */
function readEntries(zip: Buffer): Entry[] {
  let eocd = -1
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i
      break
    }
  }
  if (eocd < 0) throw invalidZip()
  const count = zip.readUInt16LE(eocd + 10)
  let p = zip.readUInt32LE(eocd + 16)
  const entries: Entry[] = []
  for (let n = 0; n < count; n++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== 0x02014b50) throw invalidZip()
    const nameLen = zip.readUInt16LE(p + 28)
    const extraLen = zip.readUInt16LE(p + 30)
    const commentLen = zip.readUInt16LE(p + 32)
    entries.push({
      method: zip.readUInt16LE(p + 10),
      compressed: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      mode: zip.readUInt32LE(p + 38) >>> 16,
      offset: zip.readUInt32LE(p + 42),
      name: zip.toString('utf8', p + 46, p + 46 + nameLen),
    })
    p += 46 + nameLen + extraLen + commentLen
  }
  return entries
}

function entryData(zip: Buffer, e: Entry): Buffer {
  const h = e.offset
  if (h + 30 > zip.length || zip.readUInt32LE(h) !== 0x04034b50) throw invalidZip()
  const start = h + 30 + zip.readUInt16LE(h + 26) + zip.readUInt16LE(h + 28)
  const raw = zip.subarray(start, start + e.compressed)
  if (raw.length !== e.compressed) throw invalidZip()
  if (e.method === 0) return raw
  if (e.method !== 8) throw invalidZip()
  try {
    // Bounded by the declared size, so a zip bomb that lies about it stops there.
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) })
  } catch {
    throw invalidZip()
  }
}

async function writeEntry(root: string, zip: Buffer, e: Entry): Promise<void> {
  const name = e.name.replaceAll('\\', '/')
  const target = resolve(root, normalize(name))
  if (isAbsolute(name) || !inside(root, target)) throw invalidZip()
  const type = e.mode & 0o170000
  if (name.endsWith('/') || type === 0o040000) {
    await mkdir(target, { recursive: true })
    return
  }
  await mkdir(dirname(target), { recursive: true })
  const data = entryData(zip, e)
  if (type === 0o120000) {
    // A link is made only when it resolves inside the package: code never reaches out of it.
    const link = data.toString('utf8')
    if (isAbsolute(link) || !inside(root, resolve(dirname(target), link))) throw invalidZip()
    await symlink(link, target)
    return
  }
  // Executable bits matter (a `provided.*` runtime's `bootstrap`); nothing else is kept.
  await writeFile(target, data, { mode: e.mode & 0o111 ? 0o755 : 0o644 })
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p)
  return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r)
}

/** Removes every package of a function (DeleteFunction). */
export async function removeCode(
  root: string,
  where: { account: string; region: string; name: string },
): Promise<void> {
  await rm(join(root, where.account, where.region, where.name), { recursive: true, force: true })
}
