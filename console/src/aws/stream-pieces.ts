/**
 * A streamed text body cut into pieces at a separator: lines of a function's log (`\n`),
 * Server-Sent Events messages of the tail (`\n\n`). A chunk may end inside a piece; the rest
 * waits for the next chunk.
 */
export async function eachPiece(
  body: NonNullable<Response['body']>,
  separator: string,
  onPiece: (piece: string) => void,
): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffered = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffered += value
    let end: number
    while ((end = buffered.indexOf(separator)) >= 0) {
      onPiece(buffered.slice(0, end))
      buffered = buffered.slice(end + separator.length)
    }
  }
}
