#!/usr/bin/env bash
# The main job: set up everything on a fresh Debian (packages, Node.js, the
# build), bring up the two-node lab, then kill HAProxy on the master while a
# client queries PostgreSQL through the VIP, and print the failover timeline and
# the client-visible outage, and draw it all in $LAB_DIR/failover-timeline.svg.
# Leaves the lab running; `bash lab/lab.sh down` removes it.
# --booted: the nodes are two booted Debian 13 with the .deb installed (lab.sh up
# --booted); the timeline then reads their journals (lab.sh export-logs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BOOTED=0
case ${1:-} in
  --booted) BOOTED=1 ;;
  '') ;;
  *) echo "usage: bash lab/demo.sh [--booted]" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, keepalived): sudo bash lab/demo.sh" >&2; exit 1; }
export LAB_PREFIX=${LAB_PREFIX:-hal} LAB_NET=${LAB_NET:-10.77.0}
export LAB_DIR=${LAB_DIR:-/run/ha-agent-lab-$LAB_PREFIX}
say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
now_ms() { date +%s%3N; }

need=()
for p in haproxy keepalived pgbouncer postgresql postgresql-client iproute2 iptables psmisc procps curl ca-certificates; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
{ [ "$node_major" -ge 20 ] && command -v npm >/dev/null; } || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "demo: Node.js >= 20 needed, found $(node --version) (Debian 13 ships 20.19)" >&2; exit 1; }
if [ ! -d node_modules ]; then say "npm ci"; npm ci --no-audit --no-fund >/dev/null; fi
say "building dist/ha-agent.js"
npm run build >/dev/null

bash lab/lab.sh down >/dev/null 2>&1 || true
if [ "$BOOTED" = 1 ]; then bash lab/lab.sh up --booted; else bash lab/lab.sh up; fi

master=$(bash lab/lab.sh holder)
[ "$master" = 1 ] || [ "$master" = 2 ] || { echo "demo: no single VIP holder ($master)" >&2; exit 1; }
other=$((3 - master))
VIP=$LAB_NET.100

say "client: SELECT 1 through the VIP every 50 ms"
: >"$LAB_DIR/probe.jsonl"
ip netns exec "$LAB_PREFIX-cl" setsid node "$ROOT/lab/probe.mjs" "$VIP" 5432 50 "$LAB_DIR/probe.jsonl" >/dev/null 2>&1 &
echo $! >"$LAB_DIR/probe.pid"
for _ in $(seq 100); do grep -q '"ok":true' "$LAB_DIR/probe.jsonl" 2>/dev/null && break; sleep 0.05; done
sleep 2

say "killing HAProxy on node $master (the master) with SIGKILL$( [ "$BOOTED" = 1 ] && echo ': systemctl kill --signal=KILL haproxy')"
kill_ms=$(now_ms)
bash lab/lab.sh kill-haproxy "$master"
vip_ms=
for _ in $(seq 5000); do
  addrs=$(ip -n "$LAB_PREFIX-n$other" -o addr show dev eth0)
  if [[ $addrs == *" $VIP/"* ]]; then vip_ms=$(now_ms); break; fi
done
if [ -z "$vip_ms" ]; then
  kill "$(cat "$LAB_DIR/probe.pid")" 2>/dev/null || true
  echo "demo: FAILED: the VIP did not move to node $other after HAProxy died on node $master. keepalived's logs end:" >&2
  bash lab/lab.sh export-logs >/dev/null 2>&1 || true
  for n in 1 2; do echo "--- node $n ($LAB_DIR/n$n/keepalived.log)" >&2; tail -15 "$LAB_DIR/n$n/keepalived.log" >&2 || true; done
  exit 1
fi
for _ in $(seq 200); do
  awk -v k="$kill_ms" -F'"t":' 'NF>1 { split($2,a,","); if (a[1] >= k && $0 ~ /"ok":true/) found=1 } END { exit !found }' "$LAB_DIR/probe.jsonl" && break
  sleep 0.05
done
sleep 2
kill "$(cat "$LAB_DIR/probe.pid")" 2>/dev/null || true
# a booted node logs to its journal: the timeline reads it from the files a host lab writes
[ "$BOOTED" = 1 ] && bash lab/lab.sh export-logs
node lab/timeline.mjs "$LAB_DIR" "$kill_ms" "$master" "$other" "${vip_ms:-NaN}" --svg "$LAB_DIR/failover-timeline.svg"

say "restarting HAProxy on node $master: the preferred master takes the VIP back (preempt) once HAProxy has answered for 2 s"
bash lab/lab.sh start-haproxy "$master"
back_start=$(now_ms)
for _ in $(seq 400); do [ "$(bash lab/lab.sh holder)" = "$master" ] && break; sleep 0.025; done
echo "VIP back on node $master after $(( $(now_ms) - back_start )) ms"
bash lab/lab.sh status | sed -n '1,12p'
echo
echo "The failover, drawn: $LAB_DIR/failover-timeline.svg (open it in a browser)"
echo "The lab is still running. Look around with the commands above; remove it with: bash lab/lab.sh down"
