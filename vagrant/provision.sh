#!/usr/bin/env bash
# Provisions one HAProxy node with ha-agent: installs the built .deb, HAProxy and
# keepalived, and fills the shipped configs in from the environment. Run by
# Vagrant in each VM, and by the clean-room test in a debootstrapped chroot
# (where systemd is not running: then nothing is started).
#
#   HA_NODE (1|2)  HA_SELF_IP  HA_PEER_IP  HA_VIP (a.b.c.d/nn)  HA_PGBOUNCER_IP  HA_IFACE
#   HA_DEB         a .deb file or a directory holding ha-agent_*.deb
#   HA_CLUSTER_TOKEN  the API token both nodes share (the Vagrantfile keeps one
#                  in .vagrant/); when unset and no token file exists, a new one
#                  is made: copy /etc/ha-agent/cluster.token to the peer.
set -euo pipefail
: "${HA_NODE:?1 or 2}" "${HA_SELF_IP:?}" "${HA_PEER_IP:?}" "${HA_VIP:?}" "${HA_PGBOUNCER_IP:?}" "${HA_IFACE:?}" "${HA_DEB:?}"
export DEBIAN_FRONTEND=noninteractive

deb=$HA_DEB
[ -d "$deb" ] && deb=$(ls -1 "$deb"/ha-agent_*_all.deb | sort -V | tail -n 1)
[ -f "$deb" ] || { echo "provision: no ha-agent .deb at $HA_DEB (run npm run package first)" >&2; exit 1; }

apt-get update -q
apt-get install -y -q --no-install-recommends haproxy keepalived ca-certificates
apt-get install -y -q --no-install-recommends "$(readlink -f "$deb")"
# The socket directory HAProxy's Debian package creates at start.
install -d -o haproxy -g haproxy /run/haproxy
# The token that guards the API (it listens on the LAN address): the same on both nodes.
if [ ! -s /etc/ha-agent/cluster.token ]; then
  (umask 0027; printf '%s\n' "${HA_CLUSTER_TOKEN:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}" >/etc/ha-agent/cluster.token)
  chown root:ha-agent /etc/ha-agent/cluster.token
  chmod 0640 /etc/ha-agent/cluster.token
fi

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
