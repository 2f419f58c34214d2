import { readFileSync } from 'node:fs'

/**
 * CPU a process has used (user + system), ms, from /proc: on a machine whose two cores are
 * shared by the database or NATS, the server and the load, CPU per event varies far less than
 * events per second.
 */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN
  const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
    .split(') ')[1]!
    .split(' ')
  // utime and stime (fields 14 and 15 of the whole line) in clock ticks of 10 ms
  return (Number(fields[11]) + Number(fields[12])) * 10
}
