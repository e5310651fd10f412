import t from 'tap'
import { expandGlob, scriptArgv, tokenize } from '../../src/doctor/keepalived-parse.js'
import { KA_PATH, parseTexts } from '../fixtures/doctor.js'

t.test('words: comments (# and !) outside quotes, quotes joined to words, braces words of their own', async (t) => {
  t.same(tokenize('  priority 250 # the preferred master'), ['priority', '250'])
  t.same(tokenize('advert_int 0.1 ! VRRPv3'), ['advert_int', '0.1'])
  t.same(tokenize('script "/usr/bin/ha-agent check # not a comment"'), ['script', '/usr/bin/ha-agent check # not a comment'])
  t.same(tokenize('x ab"c d"e \'f!g\''), ['x', 'abc de', 'f!g'])
  t.same(tokenize('track_file{ha_agent_fault weight 0}'), ['track_file', '{', 'ha_agent_fault', 'weight', '0', '}'])
  t.same(tokenize('x "a\\"b\\tc"'), ['x', 'a"b\tc'], 'escapes inside quotes')
  t.same(tokenize('x ""'), ['x', ''], 'an empty quoted word is a word')
})

t.test("a script's argv: unquoted spaces separate, quotes keep", async (t) => {
  t.same(scriptArgv(['/usr/bin/ha-agent check --timeout 800']), ['/usr/bin/ha-agent', 'check', '--timeout', '800'])
  t.same(scriptArgv(["/x/'my script' --a"]), ['/x/my script', '--a'])
  t.same(scriptArgv(['/usr/bin/ha-agent', 'check']), ['/usr/bin/ha-agent', 'check'], 'unquoted words too')
})

t.test('blocks: on the same line or the next, one-line blocks, lines kept', async (t) => {
  const cfg = parseTexts({
    [KA_PATH]: ['global_defs {', '  enable_script_security', '}', 'vrrp_instance VI_1', '{', '  priority 250', '  track_file { ha_agent_fault weight 0 }', '}', ''].join('\n'),
  })
  t.same(cfg.problems, [])
  t.same(cfg.nodes.map((n) => [n.keyword, n.args, n.line]), [['global_defs', [], 1], ['vrrp_instance', ['VI_1'], 4]])
  const vi = cfg.nodes[1]!
  t.same(vi.children!.map((c) => [c.keyword, c.line]), [['priority', 6], ['track_file', 7]])
  t.same(vi.children![1]!.children!.map((c) => [c.keyword, c.args, c.line]), [['ha_agent_fault', ['weight', '0'], 7]])
})

t.test('unbalanced braces are problems with their line, never a throw', async (t) => {
  const cfg = parseTexts({ [KA_PATH]: 'vrrp_instance VI_1 {\n  priority 250\n' })
  t.same(cfg.problems, [{ file: KA_PATH, line: 1, message: 'the block of vrrp_instance is never closed', severity: 'error' }])
  const extra = parseTexts({ [KA_PATH]: 'global_defs {\n}\n}\n' })
  t.same(extra.problems, [{ file: KA_PATH, line: 3, message: "'}' closes no block", severity: 'error' }])
  const unreadable = parseTexts({}, '/nope/keepalived.conf')
  t.match(unreadable.problems, [{ file: '/nope/keepalived.conf', message: /cannot read: ENOENT/ }])
})

t.test('globs: wildcards sorted as glob(3) sorts, dot files only for a dot pattern, {a,b} braces', async (t) => {
  const listing: Record<string, string[]> = { '/etc/keepalived/conf.d': ['b.conf', 'a.conf', '.hidden.conf', 'x.txt'] }
  t.same(expandGlob('/etc/keepalived/conf.d/*.conf', (d) => listing[d] ?? []), ['/etc/keepalived/conf.d/a.conf', '/etc/keepalived/conf.d/b.conf'])
  t.same(expandGlob('/etc/keepalived/{a,b}.conf', () => []), ['/etc/keepalived/a.conf', '/etc/keepalived/b.conf'], 'braces, no wildcard: named as they are')
  t.same(expandGlob('/etc/keepalived/conf.d/?.conf', (d) => listing[d] ?? []), ['/etc/keepalived/conf.d/a.conf', '/etc/keepalived/conf.d/b.conf'])
})

t.test('include of real files, with their own line numbers', async (t) => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { parseKeepalivedConf } = await import('../../src/doctor/keepalived-parse.js')
  const dir = mkdtempSync(join(tmpdir(), 'ha-agent-ka-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'conf.d'))
  writeFileSync(join(dir, 'keepalived.conf'), 'global_defs {\n}\ninclude conf.d/*.conf\nincluder missing/*.conf\ninclude nothing-here.conf\n')
  writeFileSync(join(dir, 'conf.d', 'b.conf'), 'vrrp_instance VI_B {\n}\n')
  writeFileSync(join(dir, 'conf.d', 'a.conf'), '\n\nvrrp_instance VI_A {\n}\n')
  const cfg = parseKeepalivedConf(join(dir, 'keepalived.conf'))
  t.same(cfg.nodes.map((n) => `${n.keyword} ${n.args.join(' ')} ${n.file.slice(dir.length)}:${n.line}`), ['global_defs  /keepalived.conf:1', 'vrrp_instance VI_A /conf.d/a.conf:3', 'vrrp_instance VI_B /conf.d/b.conf:1'])
  t.same(cfg.problems.map((p) => `${p.severity} ${p.line} ${p.message}`), ['warning 4 includer missing/*.conf: no file matches, so nothing is included', 'warning 5 include nothing-here.conf: no file matches, so nothing is included'])
})

t.test('$NAME=value parameters stand for $NAME and ${NAME} later; @conditional lines are not evaluated', async (t) => {
  const cfg = parseTexts({ [KA_PATH]: '$PRIO=250\n$IF=eth1\nvrrp_instance VI_1 {\n  priority $PRIO\n  interface ${IF}\n@other  priority 1\n}\n' })
  t.same(cfg.nodes[0]!.children!.map((c) => [c.keyword, ...c.args]), [['priority', '250'], ['interface', 'eth1']])
})
