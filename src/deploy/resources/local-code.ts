/**
 * @module
 * A Lambda function's `Code` in a template, turned into what CreateFunction and
 * UpdateFunctionCode take:
 *
 * - a string: a path relative to the template's directory, as `aws cloudformation package` and
 *   SAM's `CodeUri` read it. A directory is used in place by the server
 *   (`S3Bucket: "hot-reload"`, `S3Key`: its absolute path) and watched there; a `.zip` file is
 *   sent as `ZipFile`.
 * - `{ZipFile: source}`: inline source, written as CloudFormation writes it, to `index.js` for
 *   Node.js runtimes and `index.py` for Python, zipped here.
 * - `{S3Bucket: "hot-reload", S3Key: dir}`: a directory as above (`S3Key` relative to the
 *   template's directory or absolute).
 *
 * Other S3 locations and container images are refused: Junction has no S3.
 *
 * {@link codeFingerprint} is the code's `CodeSha256` as the server will report it (the zip's
 * SHA-256, or the directory's hash from `functions/code-dir.ts`): the Lambda provisioner records
 * it and compares it on update, so a changed zip or directory behind the same path is noticed.
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { crc32, deflateRawSync } from 'node:zlib'
import { hashDirectory, HOT_RELOAD_BUCKET } from '../../functions/code-dir.js'
import type { PropReader } from './resource-props.js'

/** What CreateFunction's `Code` (or UpdateFunctionCode's body) gets. */
export type FunctionCode =
  | { kind: 'zip'; ZipFile: Uint8Array; source: string }
  | { kind: 'directory'; S3Bucket: string; S3Key: string; source: string }

/**
 * The `Code` property of an AWS::Lambda::Function, resolved against the template's directory.
 * @example
 * await functionCode(reader, '/home/me/app', 'nodejs20.x', './src/validator')
 * // { kind: 'directory', S3Bucket: 'hot-reload', S3Key: '/home/me/app/src/validator', … }
 */
export async function functionCode(
  p: PropReader,
  baseDir: string,
  runtime: string | undefined,
  code: unknown,
): Promise<FunctionCode> {
  if (typeof code === 'string') return localPath(p, resolve(baseDir, code), code)
  if (code === null || typeof code !== 'object' || Array.isArray(code))
    throw p.error('Code must be a local path, {ZipFile: source} or {S3Bucket, S3Key}')
  const c = code as Record<string, unknown>
  if (c.ImageUri !== undefined)
    throw p.error(
      'Code.ImageUri is not supported: container images do not run here; give a local path',
    )
  if (typeof c.ZipFile === 'string') {
    const file = inlineFileName(p, runtime)
    return {
      kind: 'zip',
      ZipFile: zip([{ name: file, data: Buffer.from(c.ZipFile) }]),
      source: `inline ${file}`,
    }
  }
  if (c.S3Bucket === HOT_RELOAD_BUCKET && typeof c.S3Key === 'string') {
    const dir = resolve(baseDir, c.S3Key)
    const s = await stat(dir).catch(() => undefined)
    if (!s?.isDirectory()) throw p.error(`Code.S3Key is not a directory: ${dir}`)
    return { kind: 'directory', S3Bucket: HOT_RELOAD_BUCKET, S3Key: dir, source: dir }
  }
  if (c.S3Bucket !== undefined || c.S3Key !== undefined)
    throw p.error(
      'Code.S3Bucket/S3Key is not supported (Junction has no S3); give a local path: Code: ./dir or Code: ./fn.zip',
    )
  throw p.error('Code must be a local path, {ZipFile: source} or {S3Bucket, S3Key}')
}

async function localPath(p: PropReader, path: string, given: string): Promise<FunctionCode> {
  if (/^s3:\/\//i.test(given))
    throw p.error(`Code ${given} is not supported (Junction has no S3); give a local path`)
  const s = await stat(path).catch(() => undefined)
  if (!s) throw p.error(`Code: no such file or directory: ${path}`)
  if (s.isDirectory())
    return { kind: 'directory', S3Bucket: HOT_RELOAD_BUCKET, S3Key: path, source: path }
  if (!path.toLowerCase().endsWith('.zip'))
    throw p.error(`Code must be a directory or a .zip file: ${path}`)
  return { kind: 'zip', ZipFile: await readFile(path), source: path }
}

function inlineFileName(p: PropReader, runtime: string | undefined): string {
  if (runtime?.startsWith('nodejs')) return 'index.js'
  if (runtime?.startsWith('python')) return 'index.py'
  throw p.error(
    `Code.ZipFile (inline source) needs a Node.js or Python Runtime, not ${runtime ?? 'none'}`,
  )
}

/** The `CodeSha256` the server will report for this code. */
export async function codeFingerprint(code: FunctionCode): Promise<string> {
  if (code.kind === 'zip') return createHash('sha256').update(code.ZipFile).digest('base64')
  return (await hashDirectory(code.S3Key)).sha256
}

/**
 * A zip of `files` (deflated, times fixed at 1980-01-01 so the same files give the same bytes
 * and so the same `CodeSha256`).
 */
export function zip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  const DOS_DATE = (0 << 9) | (1 << 5) | 1 // 1980-01-01
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8')
    const packed = deflateRawSync(f.data)
    const crc = crc32(f.data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4) // version needed
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(8, 8) // deflate
    local.writeUInt16LE(0, 10) // time
    local.writeUInt16LE(DOS_DATE, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(packed.length, 18)
    local.writeUInt32LE(f.data.length, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix, 2.0
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(8, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(DOS_DATE, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(packed.length, 20)
    central.writeUInt32LE(f.data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38) // a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, packed)
    centrals.push(central, name)
    offset += local.length + name.length + packed.length
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(files.length, 8)
  end.writeUInt16LE(files.length, 10)
  end.writeUInt32LE(centralSize, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, ...centrals, end])
}
