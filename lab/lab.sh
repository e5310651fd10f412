#!/usr/bin/env bash
# The two-node lab of the reference guide on one Linux host, in network
# namespaces joined by a bridge that lives in its own namespace: nothing is added
# to the host's own network namespace.
#
#   <prefix>-sw   bridge br0 (the "switch")
#   <prefix>-n1   haproxy1: HAProxy, keepalived, ha-agent    NET.11
#   <prefix>-n2   haproxy2: HAProxy, keepalived, ha-agent    NET.12
#   <prefix>-db   PostgreSQL + PgBouncer x3 (6432-6434)      NET.20
#   <prefix>-cl   the client and a webhook receiver          NET.50
#   VIP NET.100
#
# Usage: lab.sh up [--booted]|down|status|kill-haproxy N|start-haproxy N|kill-keepalived N|
#               start-keepalived N|stop-agent N|start-agent N|freeze-agent N|stop-postgres|
#               start-postgres|cut N|heal N|holder|exec N CMD...|accounting N|poweroff N|boot N|
#               agent-log N|export-logs
#   --booted: each HAProxy node is a booted Debian 13 (systemd-nspawn -b) with the
#   built .deb installed by vagrant/provision.sh; every command above then acts
#   through systemd inside the node (lab/booted.sh). poweroff and boot: booted only.
#   agent-log N: node N's daemon log (pino's JSON lines): the lab's file, or the booted
#   node's journal. export-logs: a booted lab's journals (ha-agent, keepalived) into
#   DIR/nN/agent.log and keepalived.log, where a host lab writes them, for the timeline.
# Env: LAB_PREFIX (hal), LAB_DIR (/run/ha-agent-lab-PREFIX), LAB_NET (10.77.0),
#      LAB_STYLE (agent | guide: the guide's own killall-style check), LAB_NOTIFY
#      (script | fifo), LAB_SYSTEM_CHECK (1: the agent also checks eth0 and the
#      VIP), LAB_ACCOUNTING (1: each node's keepalived and agent in a PID
#      namespace and a cpuacct cgroup of their own, for `accounting N`),
#      LAB_BOOTED (1: as up --booted), LAB_CACHE (/var/cache/ha-agent-lab: the
#      booted nodes' image), LAB_VAR (/var/tmp/ha-agent-lab-PREFIX: their roots),
#      LAB_DEB (the .deb to install; default the newest dist/ha-agent_*_all.deb).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
P=${LAB_PREFIX:-hal}
DIR=${LAB_DIR:-/run/ha-agent-lab-$P}
NET=${LAB_NET:-10.77.0}
STYLE=${LAB_STYLE:-agent}
NOTIFY=${LAB_NOTIFY:-script}
SYSTEM_CHECK=${LAB_SYSTEM_CHECK:-0}
ACCOUNTING=${LAB_ACCOUNTING:-0}
CGROUP=/sys/fs/cgroup/cpuacct/ha-agent-lab-$P
VIP=$NET.100
SW=$P-sw
DB=$P-db
CL=$P-cl
PACKAGES=(haproxy keepalived pgbouncer postgresql postgresql-client iproute2 iptables psmisc procps openssl)
BOOTED_PACKAGES=(systemd-container debootstrap)

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }
ns() { echo "$P-n$1"; }
ip_of() { echo "$NET.1$1"; }
now_ms() { date +%s%3N; }
# shellcheck source=lab/booted.sh
. "$HERE/booted.sh"
# A lab brought up booted stays booted for every later command.
BOOTED=${LAB_BOOTED:-0}
[ -f "$DIR/booted" ] && BOOTED=1

need_root() { [ "$(id -u)" = 0 ] || die "needs root (network namespaces, keepalived): run sudo bash $0 $*"; }

ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "$BOOTED" = 1 ] && for p in "${BOOTED_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  command -v node >/dev/null || missing+=(nodejs)
  [ ${#missing[@]} -eq 0 ] && return
  say "installing missing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "could not install: ${missing[*]}"
}

ensure_build() {
  if [ ! -f "$ROOT/dist/ha-agent.js" ] || [ ! -f "$ROOT/dist/ha-agent" ]; then
    command -v npm >/dev/null || die "dist/ha-agent.js is missing and npm is not installed (apt-get install npm)"
    say "building ha-agent (npm ci && npm run build)"
    (cd "$ROOT" && { [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null; } && npm run build >/dev/null)
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# Daemons start as a service manager would start them: a clean environment and /
# as the working directory. Nothing of the caller's may leak in: a test runner's
# NODE_OPTIONS (tap's --import loaders, inside a checkout that the ha-agent user
# may not be able to read, e.g. under /root) kills every node process at start.
# Those that run as another user get that user's HOME from setpriv --reset-env.
CLEAN_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)

# Runs a command in the background inside a namespace, output to a log, pid to a file
# (the command's own pid: cd, ip, env and setsid all exec).
spawn() { # spawn NS PIDFILE LOG CMD...
  local netns=$1 pidfile=$2 log=$3
  shift 3
  (cd / && exec ip netns exec "$netns" "${CLEAN_ENV[@]}" setsid "$@") >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

children() { # the pids of a process's children, one line
  local c
  c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
  echo $c
}

# LAB_ACCOUNTING=1 (the bench): what a node's keepalived and agent cost, with
# everything they start, counted apart from the rest of the host. Each node gets a
# PID namespace, held by a small init that reaps orphans, and a cpuacct cgroup;
# keepalived and the agent are started into both (spawn_in_node), so the
# namespace's ns_last_pid counts every process (and thread) they and their
# children create, and cpuacct.usage their CPU, exited children included.
# `accounting N` prints both, and keepalived's own CPU to take out of the sum.
start_node_init() {
  local n=$1
  mkdir -p "$CGROUP/n$n"
  # the shell moves itself into the cgroup before `ip netns exec` hides /sys/fs/cgroup
  setsid sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CGROUP/n$n" \
    ip netns exec "$(ns "$n")" unshare --pid --fork --mount-proc --kill-child -- \
    /bin/sh -c 'while :; do sleep 3600 & wait; done' >>"$DIR/n$n/init.log" 2>&1 </dev/null &
  echo $! >"$DIR/n$n/init.pid"
  for _ in $(seq 200); do [ -n "$(node_init "$n")" ] && return 0; sleep 0.01; done
  die "node $n: the PID namespace's init did not start"
}

node_init() { [ -f "$DIR/n$1/init.pid" ] && children "$(cat "$DIR/n$1/init.pid")"; }

node_exec() { # node_exec N CMD...: CMD where node N's keepalived runs its scripts: its network
  # namespace and, with LAB_ACCOUNTING=1, its PID namespace (the daemon checks that a notify
  # process it is told about is one it can see)
  local n=$1 init
  shift
  init=$(node_init "$n" 2>/dev/null || true)
  if [ -n "$init" ]; then
    ip netns exec "$(ns "$n")" nsenter --target "$init" --pid --mount -- "$@"
  else
    ip netns exec "$(ns "$n")" "$@"
  fi
}

spawn_in_node() { # spawn_in_node N PIDFILE LOG CMD...: CMD's host pid goes to PIDFILE
  # (NODE_CGROUP=0: in the node's PID namespace only, its CPU not counted: HAProxy)
  local n=$1 pidfile=$2 log=$3 init pid= cg=$CGROUP/n$n
  [ "${NODE_CGROUP:-1}" = 1 ] || cg=$CGROUP
  shift 3
  init=$(node_init "$n")
  [ -n "$init" ] || die "node $n has no accounting namespace (lab up with LAB_ACCOUNTING=1)"
  (cd / && exec setsid sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
    "${CLEAN_ENV[@]}" ip netns exec "$(ns "$n")" nsenter --target "$init" --pid --mount -- "$@") >>"$log" 2>&1 </dev/null &
  local nsenter=$!
  # Its children only once it is nsenter: on the way there the background
  # subshell can have a child of its own for a moment (seen under strace; it
  # once put a short-lived pid in PIDFILE, and the bench then found "the
  # daemon" gone and stop-agent left the real one running).
  for _ in $(seq 200); do
    [ "$(cat "/proc/$nsenter/comm" 2>/dev/null)" = nsenter ] && pid=$(children "$nsenter") && [ -n "$pid" ] && break
    sleep 0.01
  done
  [ -n "$pid" ] || die "node $n: $1 did not start: $(tail -3 "$log")"
  echo "$pid" >"$pidfile"
}

accounting() { # cpuacct_ns=... ns_last_pid=... keepalived_ms=...
  local n=$1 init ticks=0 main
  init=$(node_init "$n")
  [ -n "$init" ] || die "node $n has no accounting namespace (lab up with LAB_ACCOUNTING=1)"
  main=$(cat "$DIR/n$n/keepalived.main.pid" 2>/dev/null || true)
  # keepalived's own CPU (main and VRRP processes, their utime + stime), not its children's
  for pid in $main $( [ -n "$main" ] && children "$main"); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = keepalived ] || continue
    local stat
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    set -- $stat
    ticks=$((ticks + ${12} + ${13}))
  done
  # read from inside: the value is the reader's own namespace's (this reader takes one pid)
  echo "cpuacct_ns=$(cat "$CGROUP/n$n/cpuacct.usage") ns_last_pid=$(nsenter --target "$init" --pid --mount -- cat /proc/sys/kernel/ns_last_pid) keepalived_ms=$((ticks * 10))"
}

kill_keepalived() {
  local n=$1
  if [ "$ACCOUNTING" = 1 ]; then
    # keepalived's pid files hold namespace pids; its VRRP child is the main process's child
    local kids
    kids=$(children "$(cat "$DIR/n$n/keepalived.main.pid" 2>/dev/null || echo 0)")
    kill_pidfile "$DIR/n$n/keepalived.main.pid" KILL
    [ -n "$kids" ] && kill -KILL $kids 2>/dev/null || true
  else
    kill_pidfile "$DIR/n$n/keepalived.main.pid" KILL
    kill_pidfile "$DIR/n$n/vrrp.pid" KILL
  fi
}

kill_pidfile() { # kill_pidfile FILE [SIGNAL]
  local f=$1 sig=${2:-TERM}
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f" 2>/dev/null || true)
  [ -n "$pid" ] && kill -"$sig" "$pid" 2>/dev/null || true
}

stop_pidfile() { # stop_pidfile FILE: TERM, and wait for the exit as `systemctl stop` does (KILL after 10 s)
  local f=$1 pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

render() { # render SRC DEST sed-args...
  local src=$1 dest=$2
  shift 2
  sed "$@" "$src" >"$dest"
}

node_paths() { # the shipped files name /usr/bin/ha-agent, /run/ha-agent and /run/haproxy:
  # both lab nodes share one filesystem, so each gets its own directory instead.
  local n=$1
  echo -e "s#/usr/bin/ha-agent#$DIR/n$n/ha-agent#g\ns#/run/ha-agent/#$DIR/n$n/run/#g\ns#/run/haproxy/admin.sock#$DIR/n$n/haproxy.sock#g\ns#/run/haproxy/ha-agent.sock#$DIR/n$n/haproxy-agent.sock#g\ns#/etc/ha-agent/cluster.token#$DIR/cluster.token#g\ns#/etc/ha-agent/\\(api.crt\\|api.key\\|cluster-ca.crt\\)#$DIR/n$n/tls/\\1#g"
}

start_haproxy() {
  local n=$1
  rm -f "$DIR/n$n/haproxy.sock"
  if [ "$ACCOUNTING" = 1 ]; then
    # in the node's PID namespace (the guide's check looks for it there), outside its cgroup
    NODE_CGROUP=0 spawn_in_node "$n" "$DIR/n$n/haproxy.pid" "$DIR/n$n/haproxy.log" haproxy -db -f "$DIR/n$n/haproxy.cfg"
  else
    spawn "$(ns "$n")" "$DIR/n$n/haproxy.pid" "$DIR/n$n/haproxy.log" haproxy -db -f "$DIR/n$n/haproxy.cfg"
  fi
  for _ in $(seq 100); do [ -S "$DIR/n$n/haproxy.sock" ] && return 0; sleep 0.05; done
  die "HAProxy on node $n did not start: $(tail -5 "$DIR/n$n/haproxy.log")"
}

start_keepalived() {
  local n=$1
  rm -f "$DIR/n$n/keepalived.pid" "$DIR/n$n/vrrp.pid" "$DIR/n$n/checkers.pid" "$DIR/n$n/bfd.pid"
  # Both nodes share one filesystem: each keepalived gets its own pid files, all four
  # (keepalived 2.3 locks the BFD one even with --vrrp: a shared /run/bfd.pid stops
  # the second node's keepalived as "already running").
  # --no-syslog: its log goes to the lab's file alone. This host has no /dev/log, and
  # syslog(3) then writes each line to /dev/console, 0.5-6 ms a line, in the VRRP
  # process: ~20 ms of it between a peer's priority-0 advert and this node's
  # gratuitous ARP (strace), where a booted node's journald takes microseconds.
  local cmd=(keepalived --dont-fork --log-console --no-syslog --log-detail --vrrp -f "$DIR/n$n/keepalived.conf" -p "$DIR/n$n/keepalived.pid"
    -r "$DIR/n$n/vrrp.pid" -c "$DIR/n$n/checkers.pid" -b "$DIR/n$n/bfd.pid")
  if [ "$ACCOUNTING" = 1 ]; then
    spawn_in_node "$n" "$DIR/n$n/keepalived.main.pid" "$DIR/n$n/keepalived.log" "${cmd[@]}"
  else
    spawn "$(ns "$n")" "$DIR/n$n/keepalived.main.pid" "$DIR/n$n/keepalived.log" "${cmd[@]}"
  fi
}

start_agent() {
  local n=$1
  # Through the launcher, as systemd's ExecStart=/usr/bin/ha-agent run does (it adds the daemon's Node.js flags).
  local cmd=(setpriv --reuid=ha-agent --regid=ha-agent --init-groups --reset-env -- "$DIR/n$n/ha-agent" run --config "$DIR/n$n/config.yaml")
  if [ "$ACCOUNTING" = 1 ]; then
    spawn_in_node "$n" "$DIR/n$n/agent.pid" "$DIR/n$n/agent.log" "${cmd[@]}"
  else
    spawn "$(ns "$n")" "$DIR/n$n/agent.pid" "$DIR/n$n/agent.log" "${cmd[@]}"
  fi
}

setup_node() {
  local n=$1 other=$((3 - $1))
  local d=$DIR/n$n
  mkdir -p "$d/run" "$d/state"
  chown ha-agent:ha-agent "$d/run" "$d/state"
  chmod 0755 "$d"
  # The launcher as the package installs it at /usr/bin/ha-agent, with this node's paths.
  # keepalived's enable_script_security wants the script and every directory above it root-owned.
  sed -e "s#^HA_AGENT_NODE=.*#HA_AGENT_NODE=$(command -v node)#" -e "s#^HA_AGENT_JS=.*#HA_AGENT_JS=$DIR/bin/ha-agent.js#" \
    -e "s#^HA_AGENT_DEFAULT_CONFIG=.*#HA_AGENT_DEFAULT_CONFIG=$d/config.yaml#" -e "s#^HA_AGENT_DEFAULT_RUNTIME_DIR=.*#HA_AGENT_DEFAULT_RUNTIME_DIR=$d/run#" \
    "$ROOT/dist/ha-agent" >"$d/ha-agent"
  chmod 0755 "$d/ha-agent"
  # One API token for the pair (the shipped config names /etc/ha-agent/cluster.token).
  if [ ! -s "$DIR/cluster.token" ]; then
    (umask 0077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/cluster.token")
    chown root:ha-agent "$DIR/cluster.token"
    chmod 0640 "$DIR/cluster.token"
  fi
  # The API over HTTPS with the pair's CA, made as vagrant/provision.sh makes it.
  bash "$ROOT/vagrant/provision.sh" cert "$DIR/ca" "haproxy$n" "$(ip_of "$n")" "$d/tls" >/dev/null
  local paths
  paths=$(node_paths "$n")
  render "$ROOT/haproxy/haproxy.cfg" "$d/haproxy.cfg" -e "s/@PGBOUNCER[123]@/$NET.20/g" -e "$paths"
  render "$ROOT/keepalived/ha-agent.yaml" "$d/config.yaml" -e "s/@NODE@/haproxy$n/" -e "s/@SELF_API@/$(ip_of "$n"):9471/" \
    -e "s/@PEER_API@/$(ip_of "$other"):9471/" -e "s/@PGBOUNCER[123]@/$NET.20/g" -e "s#@WEBHOOK_URL@#http://$NET.50:8080/hook#" -e "$paths"
  printf 'state_dir: %s\nruntime_dir: %s\n' "$d/state" "$d/run" >>"$d/config.yaml"
  # this node's keepalived writes its VRRP pid here (start_keepalived), not at keepalived's default
  sed -i "/^  notify_fifo:/a\\  pid_file: $d/vrrp.pid" "$d/config.yaml"
  [ "$SYSTEM_CHECK" = 1 ] && sed -i "/^checks:/a\\  system: { interface: eth0, vips: [\"$VIP/24\"] }" "$d/config.yaml"
  local priority=$((251 - n)) kconf=$ROOT/keepalived/keepalived.conf
  if [ "$NOTIFY" = fifo ]; then
    kconf=$ROOT/keepalived/keepalived-fifo.conf
    sed -i "s#notify_fifo: null#notify_fifo: $d/run/keepalived.fifo#" "$d/config.yaml"
  fi
  if [ "$STYLE" = guide ]; then
    # The guide's way, for comparison: a process check every second, fall 2, weight -20,
    # priorities 101/100, advert_int 1, curl notify scripts. `killall -0 haproxy` would
    # see the other node's HAProxy in this shared PID namespace, so the same check is
    # made per node with the pid file. With LAB_ACCOUNTING=1 each node has a PID
    # namespace of its own, HAProxy in it: the guide's own `killall -0 haproxy`.
    if [ "$ACCOUNTING" = 1 ]; then
      printf '#!/bin/sh\nkillall -0 haproxy\n' >"$d/chk_haproxy.sh"
    else
      printf '#!/bin/sh\nkill -0 "$(cat %s/haproxy.pid)"\n' "$d" >"$d/chk_haproxy.sh"
    fi
    printf '#!/bin/sh\ncurl -s -m 2 -X POST -H "content-type: application/json" -d "{\\"type\\":\\"guide.notify\\",\\"data\\":{\\"node\\":\\"haproxy%s\\",\\"instance\\":\\"$2\\",\\"state\\":\\"$3\\"},\\"timestamp\\":\\"$(date -u +%%Y-%%m-%%dT%%H:%%M:%%S.%%3NZ)\\"}" http://%s.50:8080/hook || true\n' "$n" "$NET" >"$d/notify.sh"
    chmod 0755 "$d/chk_haproxy.sh" "$d/notify.sh"
    priority=$((102 - n))
    kconf=$HERE/guide-style/keepalived.conf
  fi
  render "$kconf" "$d/keepalived.conf" -e "s/@ROUTER_ID@/haproxy$n/" -e "s/@INTERFACE@/eth0/" -e "s/@PRIORITY@/$priority/" \
    -e "s#@VIP@#$VIP/24#" -e "s#@NODE_DIR@#$d#g" -e "$paths"
}

start_postgres() {
  local d=$DIR/db
  spawn "$DB" "$d/postgres.pid" "$d/postgres.log" setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- \
    "$(pg_bin)/postgres" -D "$d/pgdata" -k "$d" -c listen_addresses=127.0.0.1 -c port=5432 -c fsync=off
}

wait_postgres() {
  for _ in $(seq 200); do
    ip netns exec "$DB" pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 0.05
  done
  die "PostgreSQL did not start: $(tail -5 "$DIR/db/postgres.log")"
}

start_db() {
  local d=$DIR/db bin
  bin=$(pg_bin)
  [ -n "$bin" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
  mkdir -p "$d"
  chown postgres:postgres "$d"
  runuser -u postgres -- "$bin/initdb" -D "$d/pgdata" -A trust -U postgres --no-sync >"$d/initdb.log" 2>&1 || die "initdb failed: $(tail -3 "$d/initdb.log")"
  start_postgres
  printf '"postgres" ""\n"monitor" ""\n' >"$d/userlist.txt"
  for i in 1 2 3; do
    local port=$((6431 + i))
    cat >"$d/pgbouncer$i.ini" <<EOF
[databases]
postgres = host=127.0.0.1 port=5432 dbname=postgres user=postgres
[pgbouncer]
listen_addr = $NET.20
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $d/userlist.txt
admin_users = monitor
pool_mode = transaction
logfile = $d/pgbouncer$i.log
pidfile = $d/pgbouncer$i.pid
EOF
    chown postgres:postgres "$d/pgbouncer$i.ini"
    spawn "$DB" "$d/pgbouncer$i.main.pid" "$d/pgbouncer$i.out" setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- "$(command -v pgbouncer)" "$d/pgbouncer$i.ini"
  done
  wait_postgres
}

holder() { # prints 1, 2, both or none
  local h=()
  local addrs
  for n in 1 2; do
    # Read the whole output first: `ip | grep -q` under pipefail fails when grep exits early (SIGPIPE).
    addrs=$(ip -n "$(ns "$n")" -o addr show dev eth0 2>/dev/null || true)
    [[ $addrs == *" $VIP/"* ]] && h+=("$n")
  done
  case ${#h[@]} in 0) echo none ;; 1) echo "${h[0]}" ;; *) echo both ;; esac
}

up() {
  need_root up
  [ "${1:-}" = --booted ] && BOOTED=1
  ip netns list | grep -q "^$SW\b" && die "lab $P is already up (bash $0 down first)"
  [ "$BOOTED" = 1 ] && { [ "$STYLE" = agent ] && [ "$NOTIFY" = script ] && [ "$ACCOUNTING" = 0 ] && [ "$SYSTEM_CHECK" = 0 ]; } \
    || [ "$BOOTED" = 0 ] || die "--booted runs the package as provision.sh configures it: no LAB_STYLE, LAB_NOTIFY, LAB_ACCOUNTING or LAB_SYSTEM_CHECK"
  ensure_packages
  ensure_build
  say "lab $P: $DIR, network $NET.0/24, VIP $VIP, $( [ "$BOOTED" = 1 ] && echo 'booted nodes' || echo "style $STYLE, notify $NOTIFY")$( [ "$ACCOUNTING" = 1 ] && echo ', accounting')"
  id ha-agent >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ha-agent
  mkdir -p "$DIR/bin"
  chmod 0755 "$DIR"
  [ "$BOOTED" = 1 ] && : >"$DIR/booted"
  # A copy of the built program (entry + chunks), readable by the ha-agent user
  # wherever this checkout lives (e.g. under /root).
  cp -r "$ROOT/dist/ha-agent.js" "$ROOT/dist/chunks" "$DIR/bin/"
  chmod -R a+rX "$DIR/bin"
  : >"$DIR/webhooks.jsonl"

  say "namespaces and the bridge"
  ip netns add "$SW"
  ip -n "$SW" link add br0 type bridge mcast_snooping 0
  ip -n "$SW" link set br0 up
  local name addr
  for spec in "n1:$NET.11" "n2:$NET.12" "db:$NET.20" "cl:$NET.50"; do
    name=${spec%%:*}
    addr=${spec#*:}
    ip netns add "$P-$name"
    ip -n "$SW" link add "v-$name" type veth peer name eth0 netns "$P-$name"
    ip -n "$SW" link set "v-$name" master br0 up
    ip -n "$P-$name" addr add "$addr/24" dev eth0
    ip -n "$P-$name" link set eth0 up
    ip -n "$P-$name" link set lo up
  done

  say "PostgreSQL and three PgBouncers in $DB"
  start_db

  say "webhook receiver in $CL on $NET.50:8080"
  spawn "$CL" "$DIR/receiver.pid" "$DIR/receiver.log" "$(command -v node)" "$HERE/receiver.mjs" "$NET.50" 8080 "$DIR/webhooks.jsonl"

  if [ "$BOOTED" = 1 ]; then
    booted_up
  else
    for n in 1 2; do
      say "node $n ($(ns "$n"), $(ip_of "$n")): HAProxy, ha-agent, keepalived"
      setup_node "$n"
      [ "$ACCOUNTING" = 1 ] && start_node_init "$n"
      start_haproxy "$n"
      if [ "$STYLE" = agent ]; then
        start_agent "$n"
        for _ in $(seq 100); do [ -f "$DIR/n$n/run/fault" ] && break; sleep 0.05; done
      fi
    done
    for n in 1 2; do start_keepalived "$n"; done
  fi

  say "waiting for the election"
  local h=none
  for _ in $(seq 200); do
    h=$(holder)
    [ "$h" = 1 ] || [ "$h" = 2 ] && break
    sleep 0.05
  done
  [ "$h" = 1 ] || [ "$h" = 2 ] || die "no node took the VIP: $(keepalived_log 1 | tail -5)"
  # A lab with one VRRP node is no pair: each keepalived must have entered a state.
  if [ "$BOOTED" = 1 ]; then
    for _ in $(seq 100); do booted_holder_ready && break; sleep 0.05; done
    booted_holder_ready || die "a node's keepalived entered no VRRP state; their journals end:
$(for n in 1 2; do echo "--- node $n"; keepalived_log "$n" | tail -10; done)"
    status
    return 0
  fi
  for n in 1 2; do
    for _ in $(seq 100); do grep -q 'Entering [A-Z]* STATE' "$DIR/n$n/keepalived.log" 2>/dev/null && break; sleep 0.05; done
    grep -q 'Entering [A-Z]* STATE' "$DIR/n$n/keepalived.log" 2>/dev/null ||
      die "keepalived on node $n entered no VRRP state within 5 s of the election; its log ($DIR/n$n/keepalived.log) ends:
$(tail -20 "$DIR/n$n/keepalived.log" 2>/dev/null)"
  done
  status
}

keepalived_log() { # keepalived's log on node N: its journal on a booted node, else the lab's file
  if [ "$BOOTED" = 1 ]; then node_run "$1" journalctl -u keepalived -b --no-pager -q 2>/dev/null || true
  else cat "$DIR/n$1/keepalived.log" 2>/dev/null || true; fi
}

agent_log() { # the daemon's log on node N, one JSON line each: its journal on a booted node, else the lab's file
  if [ "$BOOTED" = 1 ]; then
    # -o cat: the MESSAGE alone, which is pino's line; the unit's other lines (systemd's, the launcher's) are not JSON
    node_run "$1" journalctl -u ha-agent -b -o cat --no-pager -q 2>/dev/null | grep '^{' || true
  else cat "$DIR/n$1/agent.log" 2>/dev/null || true; fi
}

export_logs() {
  [ "$BOOTED" = 1 ] || { echo "export-logs: a host lab writes $DIR/nN/agent.log itself"; return 0; }
  local n
  for n in 1 2; do
    mkdir -p "$DIR/n$n"
    agent_log "$n" >"$DIR/n$n/agent.log"
    keepalived_log "$n" >"$DIR/n$n/keepalived.log"
  done
}

status() {
  local h
  h=$(holder)
  echo
  echo "VIP $VIP is on: $( [ "$h" = 1 ] || [ "$h" = 2 ] && echo "node $h ($(ns "$h"))" || echo "$h")"
  if [ "$BOOTED" = 1 ]; then booted_status; return 0; fi
  if [ "$STYLE" = agent ]; then
    for n in 1 2; do
      echo "--- node $n"
      ip netns exec "$(ns "$n")" "${CLEAN_ENV[@]}" "$DIR/n$n/ha-agent" status 2>&1 | sed -n '1,6p' || true
    done
  fi
  cat <<EOF

Look around:
  ip netns exec $(ns 1) $DIR/n1/ha-agent status        # the pair as node 1 sees it
  ip netns exec $(ns 1) curl -s --cacert $DIR/ca/ca.crt -H "Authorization: Bearer \$(cat $DIR/cluster.token)" https://$NET.11:9471/metrics | grep ^ha_agent_
  ip netns exec $(ns 1) curl -s http://127.0.0.1:8404/stats\;csv | cut -d, -f1,2,18 # HAProxy stats page (loopback)
  ip netns exec $CL psql -h $VIP -U monitor -d postgres -c 'select 1'
  tail -f $DIR/n1/agent.log $DIR/n1/keepalived.log $DIR/webhooks.jsonl
  bash $0 down                                          # remove every trace
EOF
}

down() {
  need_root down
  booted_down
  for n in 1 2; do
    kill_pidfile "$DIR/n$n/keepalived.main.pid"
    kill_pidfile "$DIR/n$n/agent.pid"
    kill_pidfile "$DIR/n$n/haproxy.pid" KILL
    # the accounting namespace's holder: its init and whatever is left in it go with it
    kill_pidfile "$DIR/n$n/init.pid" KILL
  done
  kill_pidfile "$DIR/receiver.pid"
  kill_pidfile "$DIR/probe.pid"
  for i in 1 2 3; do kill_pidfile "$DIR/db/pgbouncer$i.main.pid"; done
  kill_pidfile "$DIR/db/postgres.pid" INT
  # Anything still running inside the lab's namespaces goes too.
  for name in n1 n2 db cl sw; do
    if ip netns list | grep -q "^$P-$name\b"; then
      local pids
      pids=$(ip netns pids "$P-$name" 2>/dev/null || true)
      [ -n "$pids" ] && { kill $pids 2>/dev/null || true; sleep 0.3; kill -9 $(ip netns pids "$P-$name" 2>/dev/null) 2>/dev/null || true; }
      ip netns del "$P-$name"
    fi
  done
  rm -rf "$DIR"
  if [ -d "$CGROUP" ]; then
    for _ in $(seq 50); do rmdir "$CGROUP"/n* "$CGROUP" 2>/dev/null && break; sleep 0.1; done
  fi
  echo "lab $P is down"
}

# The node commands of a booted lab go through systemd inside the node, as an
# operator's would.
in_node() { node_run "$@" >/dev/null; }
if [ "$BOOTED" = 1 ]; then
  case ${1:-} in
    kill-haproxy) in_node "$2" systemctl kill --signal=KILL haproxy.service; exit ;;
    start-haproxy) in_node "$2" systemctl start haproxy.service; exit ;;
    kill-keepalived) in_node "$2" systemctl kill --signal=KILL keepalived.service; exit ;;
    start-keepalived) in_node "$2" systemctl start keepalived.service; exit ;;
    stop-agent) in_node "$2" systemctl stop ha-agent.service; exit ;;
    start-agent) in_node "$2" systemctl start ha-agent.service; exit ;;
    # the daemon alone (its watchdog sidecar runs on), as a stuck event loop would be
    freeze-agent) in_node "$2" systemctl kill --kill-whom=main --signal=STOP ha-agent.service; exit ;;
    exec) n=$2; shift 2; node_run "$n" "$@"; exit ;;
    poweroff) poweroff_node "$2"; exit ;;
    boot) boot_node "$2"; exit ;;
  esac
fi

cmd=${1:-}
shift || true
case $cmd in
  up) up "$@" ;;
  down) down ;;
  status) status ;;
  holder) holder ;;
  kill-haproxy) kill_pidfile "$DIR/n$1/haproxy.pid" KILL ;;
  start-haproxy) start_haproxy "$1" ;;
  kill-keepalived) kill_keepalived "$1" ;;
  start-keepalived) start_keepalived "$1" ;;
  stop-agent) stop_pidfile "$DIR/n$1/agent.pid" ;;
  freeze-agent) kill_pidfile "$DIR/n$1/agent.pid" STOP ;;
  poweroff | boot) die "$cmd: only a booted lab (up --booted) has nodes to power" ;;
  start-agent) start_agent "$1" ;;
  stop-postgres) kill_pidfile "$DIR/db/postgres.pid" INT ;;
  start-postgres) start_postgres; wait_postgres ;;
  cut) ip -n "$SW" link set "v-n$1" down ;;
  heal) ip -n "$SW" link set "v-n$1" up ;;
  exec) n=$1; shift; node_exec "$n" "$@" ;;
  accounting) accounting "$1" ;;
  agent-log) agent_log "$1" ;;
  export-logs) export_logs ;;
  *) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
