// HAProxy's runtime API (the "stats socket"), non-interactive mode: one command,
// read to EOF. See management.txt, section 9.3.
import { hasCode, SocketError, TimeoutError } from '../errors/index.js'
import { exchange } from '../net/exchange.js'

/** Sends one command and resolves with the whole answer. Rejects naming the socket. */
export async function haproxyCommand(socket: string, command: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  try {
    // Non-interactive mode: HAProxy answers one command and closes.
    const answer = await exchange({ to: socket, send: command + '\n', endAfterSend: true, timeoutMs, label: `HAProxy socket ${socket}`, ...(signal ? { signal } : {}) })
    return answer.toString('utf8')
  } catch (err) {
    if (hasCode(err, 'HA_ERR_TIMEOUT')) throw new TimeoutError(`HAProxy socket ${socket}: no answer to "${command}" within ${timeoutMs} ms`, timeoutMs)
    if (err instanceof SocketError && err.errno === 'ENOENT') throw new SocketError('HA_ERR_UNAVAILABLE', `HAProxy socket ${socket}: no such socket file (is HAProxy running with a stats socket there?)`, err.errno)
    if (err instanceof SocketError && err.errno === 'ECONNREFUSED') throw new SocketError('HA_ERR_UNAVAILABLE', `HAProxy socket ${socket}: connection refused (HAProxy is not listening)`, err.errno)
    throw err
  }
}

export interface StatRow {
  pxname: string
  svname: string
  status: string
  /** 0 frontend, 1 backend, 2 server, 3 listener */
  type: number
  [field: string]: string | number
}

/** Parses `show stat` CSV (first line `# pxname,svname,...`). Throws on garbage. */
export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '')
  const header = lines.shift()
  if (!header || !header.startsWith('# pxname,svname,')) {
    throw new Error(`not a "show stat" answer: ${JSON.stringify((header ?? '').slice(0, 60))}`)
  }
  const fields = header.slice(2).split(',')
  return lines.map((line) => {
    const cells = line.split(',')
    const row: Record<string, string | number> = {}
    fields.forEach((f, i) => {
      if (f) row[f] = cells[i] ?? ''
    })
    row.type = Number(row.type)
    return row as StatRow
  })
}

/** Parses `show info` ("Key: value" lines). Throws if it does not look like HAProxy. */
export function parseShowInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) info[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
  }
  if (!info.Name || !info.Pid) throw new Error(`not a "show info" answer: ${JSON.stringify(text.slice(0, 60))}`)
  return info
}
