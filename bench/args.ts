/**
 * Numeric command-line options of the benchmarks: `--name N`, or the fallback when absent.
 */
export function numberArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  if (at < 0) return fallback
  const v = Number(process.argv[at + 1])
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`)
  return v
}
