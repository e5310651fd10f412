import t from 'tap'
import { maskPostgresUrl, redactUrl, urlLabel } from '../../src/redact/index.js'

t.test('redactUrl: scheme://host:port, and /… when something was left out', async (t) => {
  t.equal(redactUrl('https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX'), 'https://hooks.slack.com:443/…', 'a Slack hook path is a secret')
  t.equal(redactUrl('http://10.0.1.21:9471'), 'http://10.0.1.21:9471', 'nothing hidden: no ellipsis')
  t.equal(redactUrl('http://10.0.1.21:9471/'), 'http://10.0.1.21:9471')
  t.equal(redactUrl('https://x.test/?token=tok3n'), 'https://x.test:443/…')
  t.equal(redactUrl('https://user:hunter2@x.test'), 'https://x.test:443/…', 'user-info is left out too')
  t.equal(redactUrl('http://[fd00::2]:9471/a#frag'), 'http://[fd00::2]:9471/…')
  t.equal(redactUrl('not a url ?token=x'), 'invalid-url', 'an unparsable URL says nothing of itself')
})

t.test('urlLabel: scheme://host:port only (metric labels)', async (t) => {
  t.equal(urlLabel('https://user:pw@x.test:8443/p?token=1'), 'https://x.test:8443')
  t.equal(urlLabel('postgres://m:pw@db:5432/x'), 'postgres://db:5432')
  for (const u of ['https://user:pw@x.test:8443/p?token=1', 'http://10.0.1.21:9471', 'http://[fd00::2]/x']) {
    t.equal(urlLabel(redactUrl(u)), urlLabel(u), `a shown URL labels the same (${u})`)
  }
})

t.test('maskPostgresUrl: every password-like part masked, the rest kept', async (t) => {
  t.equal(maskPostgresUrl('postgres://monitor:hunter2@10.0.0.5:5432/postgres'), 'postgres://monitor:***@10.0.0.5:5432/postgres')
  t.equal(maskPostgresUrl('postgresql://monitor@127.0.0.1/postgres'), 'postgresql://monitor@127.0.0.1/postgres', 'nothing to mask')
  t.equal(
    maskPostgresUrl('postgresql://m@h/db?sslmode=require&password=hunter2&sslpassword=k3ypass&application_name=x'),
    'postgresql://m@h/db?sslmode=require&password=***&sslpassword=***&application_name=x',
  )
  t.equal(maskPostgresUrl('postgresql://m@h/db?PassWord=hunter2'), 'postgresql://m@h/db?PassWord=***', 'any case')
  t.equal(maskPostgresUrl('postgresql://m@h/db?pass%77ord=hunter2'), 'postgresql://m@h/db?pass%77ord=***', 'a percent-encoded name')
  t.equal(maskPostgresUrl('postgresql://m@h/db?auth_token=abc&api_key=def'), 'postgresql://m@h/db?auth_token=***&api_key=***')
  t.equal(maskPostgresUrl('postgresql://m:p@ss:w@rd@h:5432/db'), 'postgresql://m:***@h:5432/db', 'an unescaped @ in the password')
  t.equal(maskPostgresUrl('postgresql://m:pw@h/db?password'), 'postgresql://m:***@h/db?password', 'a name without value shows nothing')
  t.equal(maskPostgresUrl('postgresql://m@h/db?password=x#frag'), 'postgresql://m@h/db?password=***#…')
  t.equal(maskPostgresUrl('garbage with password=x'), 'invalid-url')
})
