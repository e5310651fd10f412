import t from 'tap'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pollPeer, startCluster } from '../../src/cluster/index.js'
import { buildConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/log/index.js'
import { makeTestPki } from '../fixtures/tls.js'

const TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed'
const pki = makeTestPki(t)

/** A peer's /status: answers only with the token, records what it was sent. */
function peerHandler(seen: Array<string | undefined>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers.authorization)
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end('{}')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ node: 'ha2', healthy: true, instances: [{ name: 'VI_1', state: 'BACKUP', priority: 249, since: 'x' }], checks: [] }))
  }
}

async function listen(server: ReturnType<typeof createHttpServer>, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as AddressInfo).port
}

t.test('https peers: verified against cluster.ca_file; refused without it or with another CA', async (t) => {
  const seen: Array<string | undefined> = []
  const port = await listen(createHttpsServer({ cert: pki.pem.cert, key: pki.pem.key }, peerHandler(seen)) as unknown as ReturnType<typeof createHttpServer>)
  const url = `https://127.0.0.1:${port}/some/path?token=tok3n`

  const ok = await pollPeer(url, { timeoutMs: 2000, token: TOKEN, ca: pki.pem.ca })
  t.equal(ok.reachable, true, `verified with the CA: ${ok.error ?? ''}`)
  t.equal(ok.node, 'ha2')
  t.equal(ok.url, `https://127.0.0.1:${port}/…`, 'the view shows scheme://host:port/… only')
  t.equal(seen.length, 1, 'the token was sent once the certificate was verified')

  const noCa = await pollPeer(url, { timeoutMs: 2000, token: TOKEN })
  t.equal(noCa.reachable, false, 'not trusted by the system CAs')
  t.match(noCa.error, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/)

  const other = await pollPeer(url, { timeoutMs: 2000, token: TOKEN, ca: pki.pem.otherCa })
  t.equal(other.reachable, false, 'another CA does not vouch for it')
  t.match(other.error, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/)

  const byName = await pollPeer(`https://localhost:${port}`, { timeoutMs: 2000, token: TOKEN, ca: pki.pem.ca })
  t.equal(byName.reachable, true, 'the DNS name in the certificate works too')

  t.equal(seen.length, 2, 'a peer whose certificate failed was never sent the token')
})

t.test('a certificate for another name is refused even from the right CA', async (t) => {
  // 127.0.0.2 is loopback too (Linux), but the certificate names 127.0.0.1 and localhost only
  const port = await listen(createHttpsServer({ cert: pki.pem.cert, key: pki.pem.key }, peerHandler([])) as unknown as ReturnType<typeof createHttpServer>, '127.0.0.2')
  const wrong = await pollPeer(`https://127.0.0.2:${port}`, { timeoutMs: 2000, token: TOKEN, ca: pki.pem.ca })
  t.equal(wrong.reachable, false)
  t.equal(wrong.error, 'ERR_TLS_CERT_ALTNAME_INVALID')
})

t.test('a peer that wants another token says so', async (t) => {
  const port = await listen(createHttpServer(peerHandler([])))
  const v = await pollPeer(`http://127.0.0.1:${port}`, { timeoutMs: 2000, token: 'another-token-another-token' })
  t.same(v, { url: `http://127.0.0.1:${port}`, reachable: false, error: 'HTTP 401 (the peer wants another token: cluster.token_file)' })
})

t.test('the cluster warns once when the token would cross the network over http://, never naming the whole URL', async (t) => {
  const lines: string[] = []
  const logger = createLogger({ destination: { write: (s: string) => void lines.push(s) } })
  const config = buildConfig({ peers: ['http://10.0.1.21:9471/s3cr3t?token=tok3n', 'http://127.0.0.1:1/', `https://127.0.0.1:2/`], cluster: { poll_interval_ms: 60_000, poll_timeout_ms: 50 } }, null, {
    env: { HA_AGENT_CLUSTER_TOKEN: TOKEN },
  })
  const cluster = startCluster({ config, logger, localInstances: () => [], emit: () => {}, onPeers: () => {}, token: () => config.cluster.token })
  cluster.stop()
  const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'warn')
  t.same(
    warnings.map((w) => [w.peer, w.msg]),
    [['http://10.0.1.21:9471/…', 'the cluster token goes to this peer in clear text over http://: use https:// and cluster.ca_file']],
    'one warning, for the http:// peer off this host',
  )
  t.same(
    cluster.peers().map((p) => p.url),
    ['http://10.0.1.21:9471/…', 'http://127.0.0.1:1', 'https://127.0.0.1:2'],
    'views name peers the safe way from the start',
  )
  t.notMatch(lines.join(''), /s3cr3t|tok3n|f00dfeed/)
})
