#!/usr/bin/env bash
# Provisions one HAProxy node with ha-agent: installs the built .deb, HAProxy and
# keepalived, makes the node's TLS certificate, and fills the shipped configs in
# from the environment. Run by Vagrant in each VM, by the booted lab in each
# booted node (lab/lab.sh up --booted), and by the clean-room test in a
# debootstrapped chroot (where systemd is not running: then nothing is started).
#
#   HA_NODE (1|2)  HA_SELF_IP  HA_PEER_IP  HA_VIP (a.b.c.d/nn)  HA_PGBOUNCER_IP  HA_IFACE
#   HA_DEB         a .deb file or a directory holding ha-agent_*.deb
#   HA_CLUSTER_TOKEN  the API token both nodes share (the Vagrantfile keeps one
#                  in .vagrant/); when unset and no token file exists, a new one
#                  is made: copy /etc/ha-agent/cluster.token to the peer.
#   HA_CA_DIR      the pair's CA (ca.crt, ca.key), the same for both nodes: made
#                  there by the first node provisioned when it holds none (default
#                  /root/ha-agent-pair-ca: then copy that directory to the peer and
#                  point its HA_CA_DIR at the copy). Each node's API certificate is
#                  signed by it, so the peers talk https:// and verify each other.
#   HA_WEBHOOK_URL where the `ops` webhook goes (default: a closed local port)
#
# Packages already installed are not fetched again (no network needed then).
#
#   provision.sh cert CA_DIR NAME IP OUT_DIR
# makes only a node certificate (OUT_DIR/api.crt, api.key, cluster-ca.crt), and
# the CA in CA_DIR when it has none: the host lab (lab/lab.sh) uses it so that its
# nodes run the very config this script writes.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# make_cert CA_DIR NAME IP OUT_DIR [GROUP]: the pair's CA (once) and a certificate for
# this node's API (EC P-256, IP SAN) signed by it. An existing one is kept while the CA
# still verifies it.
make_cert() {
  local ca=$1 name=$2 ip=$3 out=$4 group=${5:-}
  install -d -m 0700 "$ca"
  if [ ! -s "$ca/ca.crt" ] || [ ! -s "$ca/ca.key" ]; then
    (umask 0077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=ha-agent pair CA" -keyout "$ca/ca.key" -out "$ca/ca.crt" 2>/dev/null)
    chmod 0644 "$ca/ca.crt"
    echo "provision: made the pair's CA in $ca (provision the peer with the same HA_CA_DIR, or a copy of it)"
  fi
  install -d "$out"
  install -m 0644 "$ca/ca.crt" "$out/cluster-ca.crt"
  if [ -s "$out/api.crt" ] && [ -s "$out/api.key" ] && openssl verify -CAfile "$ca/ca.crt" "$out/api.crt" >/dev/null 2>&1 \
    && openssl x509 -in "$out/api.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$ip\$"; then
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  (umask 0077; openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$tmp/api.key" -out "$tmp/api.csr" 2>/dev/null)
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$ip" >"$tmp/ext"
  openssl x509 -req -in "$tmp/api.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial -days 825 \
    -extfile "$tmp/ext" -out "$tmp/api.crt" 2>/dev/null
  install -m 0644 "$tmp/api.crt" "$out/api.crt"
  install -m 0640 "$tmp/api.key" "$out/api.key"
  [ -n "$group" ] && chown "root:$group" "$out/api.key"
  rm -rf "$tmp"
}

if [ "${1:-}" = cert ]; then
  [ $# = 5 ] || { echo "usage: provision.sh cert CA_DIR NAME IP OUT_DIR" >&2; exit 2; }
  make_cert "$2" "$3" "$4" "$5" ha-agent
  exit 0
fi

: "${HA_NODE:?1 or 2}" "${HA_SELF_IP:?}" "${HA_PEER_IP:?}" "${HA_VIP:?}" "${HA_PGBOUNCER_IP:?}" "${HA_IFACE:?}" "${HA_DEB:?}"

deb=$HA_DEB
[ -d "$deb" ] && deb=$(ls -1 "$deb"/ha-agent_*_all.deb | sort -V | tail -n 1)
[ -f "$deb" ] || { echo "provision: no ha-agent .deb at $HA_DEB (run npm run package first)" >&2; exit 1; }

missing=()
for p in haproxy keepalived ca-certificates openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
apt-get install -y -q --no-install-recommends "$(readlink -f "$deb")"
# The socket directory HAProxy's Debian package creates at start.
install -d -o haproxy -g haproxy /run/haproxy
# The token that guards the API (it listens on the LAN address): the same on both nodes.
if [ ! -s /etc/ha-agent/cluster.token ]; then
  (umask 0027; printf '%s\n' "${HA_CLUSTER_TOKEN:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}" >/etc/ha-agent/cluster.token)
  chown root:ha-agent /etc/ha-agent/cluster.token
  chmod 0640 /etc/ha-agent/cluster.token
fi
# The API over HTTPS, peers verified against the pair's CA: the token never crosses
# the network in clear text.
make_cert "${HA_CA_DIR:-/root/ha-agent-pair-ca}" "haproxy$HA_NODE" "$HA_SELF_IP" /etc/ha-agent ha-agent

examples=/usr/share/doc/ha-agent/examples
fill() {
  sed -e "s/@ROUTER_ID@/haproxy$HA_NODE/" -e "s/@INTERFACE@/$HA_IFACE/" -e "s/@PRIORITY@/$((251 - HA_NODE))/" \
    -e "s#@VIP@#$HA_VIP#" -e "s/@SELF_IP@/$HA_SELF_IP/" -e "s/@PEER_IP@/$HA_PEER_IP/" \
    -e "s/@PGBOUNCER[123]@/$HA_PGBOUNCER_IP/g" -e "s/@NODE@/haproxy$HA_NODE/" \
    -e "s/@SELF_API@/$HA_SELF_IP:9471/" -e "s/@PEER_API@/$HA_PEER_IP:9471/" \
    -e "s#@WEBHOOK_URL@#${HA_WEBHOOK_URL:-http://127.0.0.1:9/hook}#" "$1"
}
fill "$examples/haproxy.cfg" >/etc/haproxy/haproxy.cfg
install -d /etc/keepalived
fill "$examples/keepalived.conf" >/etc/keepalived/keepalived.conf
# Keep an administrator's own config: only the pristine one (every key commented) is replaced.
if ! grep -q '^[a-z]' /etc/ha-agent/config.yaml; then
  fill "$examples/ha-agent.yaml" >/etc/ha-agent/config.yaml
  chown root:ha-agent /etc/ha-agent/config.yaml
  chmod 0640 /etc/ha-agent/config.yaml
fi
ha-agent config check >/dev/null

if [ -d /run/systemd/system ]; then
  systemctl enable --now haproxy ha-agent keepalived
  systemctl restart haproxy ha-agent keepalived
else
  echo "provision: systemd is not running here; services not started"
fi
echo "provision: haproxy$HA_NODE ready ($HA_SELF_IP, VIP $HA_VIP on $HA_IFACE)"
