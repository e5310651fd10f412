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

/** A `show stat` row: the four columns the checks read (StatStatus), and every other by its header name. */
export interface StatRow extends StatStatus {
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

/** The four columns of a `show stat` row the checks read. */
export interface StatStatus {
  pxname: string
  svname: string
  status: string
  /** 0 frontend, 1 backend, 2 server, 3 listener */
  type: number
}

// Column positions by header line: one entry (HAProxy's header changes only with its version).
let lastHeader = ''
let columns: { status: number; type: number } | undefined

/**
 * `show stat` reduced to pxname, svname, status and type, read by scanning for
 * commas instead of splitting every row into its ~100 fields: the daemon reads
 * it every round, and HAProxy 3.0's answer is ~6 KB (measured: the largest
 * item of a booted node's profile when every cell became a string and a row
 * an object). Throws on garbage, as parseShowStat does.
 */
export function parseStatStatus(csv: string): StatStatus[] {
  const nl = csv.indexOf('\n')
  const header = (nl < 0 ? csv : csv.slice(0, nl)).replace(/\r$/, '')
  if (!header.startsWith('# pxname,svname,')) throw new Error(`not a "show stat" answer: ${JSON.stringify(header.slice(0, 60))}`)
  if (header !== lastHeader) {
    const fields = header.slice(2).split(',')
    const status = fields.indexOf('status')
    const type = fields.indexOf('type')
    if (status < 0 || type < 0) throw new Error('a "show stat" answer without status or type columns')
    lastHeader = header
    columns = { status, type }
  }
  const { status, type } = columns!
  const last = Math.max(status, type, 1)
  const rows: StatStatus[] = []
  let at = nl < 0 ? csv.length : nl + 1
  while (at < csv.length) {
    let end = csv.indexOf('\n', at)
    if (end < 0) end = csv.length
    if (end - at > 1 || (end - at === 1 && csv[at] !== '\r')) {
      let pxname = ''
      let svname = ''
      let st = ''
      let ty = ''
      let from = at
      for (let col = 0; col <= last; col++) {
        let comma = csv.indexOf(',', from)
        if (comma < 0 || comma > end) comma = end
        if (col === 0) pxname = csv.slice(from, comma)
        else if (col === 1) svname = csv.slice(from, comma)
        if (col === status) st = csv.slice(from, comma)
        if (col === type) ty = csv.slice(from, comma)
        from = comma + 1
      }
      rows.push({ pxname, svname, status: st, type: Number(ty) })
    }
    at = end + 1
  }
  return rows
}

/** `show info`'s Name, Pid and Version, without reading its other ~70 lines into an object. Throws as parseShowInfo does. */
export function infoFields(text: string): { Name: string; Pid: string; Version: string } {
  const field = (key: string) => {
    const tag = `${key}:`
    const found = text.startsWith(tag) ? 0 : text.indexOf(`\n${tag}`)
    if (found < 0) return ''
    const at = found === 0 && text.startsWith(tag) ? 0 : found + 1
    let end = text.indexOf('\n', at)
    if (end < 0) end = text.length
    return text.slice(at + key.length + 1, end).trim()
  }
  const info = { Name: field('Name'), Pid: field('Pid'), Version: field('Version') }
  if (!info.Name || !info.Pid) throw new Error(`not a "show info" answer: ${JSON.stringify(text.slice(0, 60))}`)
  return info
}
