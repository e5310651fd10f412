#!/usr/bin/env bash
# Builds dist/ha-agent_<version>_all.deb from dist/ (npm run build) and deb/.
# VERSION overrides package.json's version (the upgrade test bumps it).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${VERSION:-$(node -p 'require("./package.json").version')}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
[ -f dist/ha-agent.js ] || { echo "deb/build.sh: dist/ha-agent.js missing: run npm run build" >&2; exit 1; }

stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
umask 022
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/ha-agent" "$stage/etc/ha-agent" \
  "$stage/usr/lib/systemd/system" "$stage/usr/share/doc/ha-agent/examples" "$stage/usr/share/man/man1"

install -m 0644 dist/ha-agent.js "$stage/usr/lib/ha-agent/ha-agent.js"
install -d "$stage/usr/lib/ha-agent/chunks"
install -m 0644 dist/chunks/*.js "$stage/usr/lib/ha-agent/chunks/"
# The bundle's shebang is for development; the package runs it through /usr/bin/ha-agent.
sed -i '1{/^#!/d}' "$stage/usr/lib/ha-agent/ha-agent.js" "$stage"/usr/lib/ha-agent/chunks/*.js
# /usr/bin/ha-agent is the sh launcher (src/launcher/ha-agent.sh): keepalived's
# `ha-agent check` is answered from the daemon's verdict without starting Node.js.
# Its install-path lines already name /usr/bin/node and /usr/lib/ha-agent.
install -m 0755 src/launcher/ha-agent.sh "$stage/usr/bin/ha-agent"

# 0644 in the archive (lintian); postinst makes it root:ha-agent 0640, since secrets may go in it.
install -m 0644 "${CONFIG_YAML:-deb/config.yaml}" "$stage/etc/ha-agent/config.yaml"
install -m 0644 systemd/ha-agent.service "$stage/usr/lib/systemd/system/ha-agent.service"
install -m 0644 keepalived/keepalived.conf keepalived/keepalived-fifo.conf keepalived/ha-agent.yaml haproxy/haproxy.cfg \
  vagrant/provision.sh "$stage/usr/share/doc/ha-agent/examples/"

# Prometheus alert rules (with their promtool unit tests) and the Grafana dashboard.
install -d "$stage/usr/share/ha-agent"
install -m 0644 monitoring/ha-agent.rules.yml monitoring/ha-agent.rules.test.yml monitoring/grafana-dashboard.json "$stage/usr/share/ha-agent/"
install -m 0644 monitoring/README.md "$stage/usr/share/doc/ha-agent/README.monitoring"

node scripts/gen-man.mjs "$VERSION" "$stage/usr/share/man/man1/ha-agent.1"
gzip -9n "$stage/usr/share/man/man1/ha-agent.1"
# A native package (no Debian revision): the changelog is changelog.gz.
sed "s/@VERSION@/$VERSION/" deb/changelog | gzip -9n >"$stage/usr/share/doc/ha-agent/changelog.gz"
node deb/copyright.mjs >"$stage/usr/share/doc/ha-agent/copyright"
chmod 0644 "$stage/usr/share/doc/ha-agent/copyright" "$stage/usr/share/doc/ha-agent/changelog.gz" "$stage/usr/share/man/man1/ha-agent.1.gz"

install -m 0644 deb/conffiles "$stage/DEBIAN/conffiles"
install -m 0755 deb/postinst deb/prerm deb/postrm "$stage/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$size/" deb/control.in >"$stage/DEBIAN/control"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

out=dist/ha-agent_${VERSION}_all.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
