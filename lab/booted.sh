# Booted nodes for lab/lab.sh (sourced by it; `lab.sh up --booted`). Each HAProxy
# node is a booted Debian 13, systemd as PID 1 (systemd-nspawn -b), inside the
# lab's network namespace for that node. The built .deb is installed and the node
# configured by vagrant/provision.sh, as on a real host; HAProxy, ha-agent and
# keepalived are Debian's units and ours, started, stopped and rebooted by
# systemd. The database and the client stay plain namespaces, as in the host lab.
#
# Pitfalls measured on these machines (../shared/notes/booted-systemd.md):
# - the host mounts cgroup v1, on which the node's systemd never learns that a
#   unit's cgroup emptied (a SIGKILLed service hangs, Restart= never fires): nspawn
#   starts in a private mount namespace with cgroup2 over /sys/fs/cgroup, moved
#   into a cgroup of its own;
# - keepalived needs CAP_NET_ADMIN to add the VIP;
# - a node in a private network namespace reaches no package registry: the image
#   holds everything the node runs, built once and cached.
#
# Layout: the image (a debootstrapped root, read-only) in $IMAGE_DIR; per node an
# overlay of it ($VAR/nN/upper: what the node changed, kept across reboots)
# mounted at $VAR/nN/root; $DIR/pkg (the .deb and provision.sh) bound read-only
# at /srv/pkg, $DIR/ca (the pair's CA, made by the first node provisioned) at /srv/ca.

LAB_CACHE=${LAB_CACHE:-/var/cache/ha-agent-lab}
VAR=${LAB_VAR:-/var/tmp/ha-agent-lab-$P}
SUITE=${LAB_SUITE:-trixie}
# What a node runs, and what systemd needs to boot. openssl: provision.sh makes the
# node's TLS certificate; curl: the operator's way to ask the API from the node.
NODE_PACKAGES=(systemd systemd-sysv dbus libpam-systemd iproute2 procps nodejs adduser
  haproxy keepalived openssl ca-certificates curl)
BOOT_TIMEOUT_S=${LAB_BOOT_TIMEOUT:-90}

# Where debootstrap fetches from: the host's own Debian mirror (the registry this
# machine is allowed to reach), else deb.debian.org.
host_mirror() {
  local m
  m=$(sed -n 's/^URIs:[[:space:]]*\(http[^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  [ -n "$m" ] || m=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\(http[^ ]*\/debian\)\/*[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  echo "${m:-http://deb.debian.org/debian}"
}

image_key() { # changes when what goes into the image changes
  { echo "$SUITE ${NODE_PACKAGES[*]}"; declare -f build_image; } | sha256sum | cut -c1-12
}

IMAGE_DIR= # set by ensure_image: $LAB_CACHE/$SUITE-node-KEY

build_image() { # debootstrap into a temporary directory, then rename: a half-built image is never used
  local tmp=$LAB_CACHE/.build-$$ mirror
  mirror=$(host_mirror)
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null \
    || die "debootstrap is not installed and could not be (apt-get install debootstrap)"
  say "building the node image ($SUITE from $mirror, once: about a minute; cached in $IMAGE_DIR)"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local pkgs
  pkgs=$(IFS=,; echo "${NODE_PACKAGES[*]}")
  debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$tmp" "$mirror" >"$LAB_CACHE/debootstrap.log" 2>&1 \
    || { rm -rf "$tmp"; die "debootstrap $SUITE failed (log: $LAB_CACHE/debootstrap.log): $(tail -3 "$LAB_CACHE/debootstrap.log")"; }
  # The network is wired from outside; no console login; no timers that wake a
  # node to reach the internet it does not have.
  chroot "$tmp" systemctl mask console-getty.service systemd-networkd.service systemd-networkd.socket \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer e2scrub_all.timer >/dev/null 2>&1 || true
  # Every node makes its own machine id at its first boot (the image is shared).
  : >"$tmp/etc/machine-id"
  rm -f "$tmp/var/lib/dbus/machine-id"
  apt-get -o RootDir="$tmp" clean 2>/dev/null || rm -rf "$tmp"/var/cache/apt/archives/*.deb
  rm -f "$tmp/etc/hostname"
  mv "$tmp" "$IMAGE_DIR"
}

ensure_image() {
  IMAGE_DIR=$LAB_CACHE/$SUITE-node-$(image_key)
  mkdir -p "$LAB_CACHE"
  # one build at a time, however many labs start together
  exec 9>"$LAB_CACHE/.lock"
  flock 9
  [ -d "$IMAGE_DIR" ] || build_image
  flock -u 9
  exec 9>&-
}

node_nspawn_pid() { cat "$VAR/n$1/nspawn.pid" 2>/dev/null || true; }

node_pid1() { # the node's PID 1, as the host sees it ('' when the node is off)
  local nspawn
  nspawn=$(node_nspawn_pid "$1")
  [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null || return 0
  children "$nspawn"
}

node_run() { # node_run N CMD...: CMD inside node N, as root, in a clean environment
  local n=$1 pid1
  shift
  pid1=$(node_pid1 "$n")
  [ -n "$pid1" ] || die "node $n is not running"
  # -r -w: the root and cwd of the node's PID 1. Entering the mount namespace alone
  # lands at that namespace's first root, which is the node's only where nspawn
  # could pivot_root: started from a chroot it cannot, and systemctl then sees a
  # chroot and answers "offline" (measured in a fresh Debian 13 root).
  nsenter -t "$pid1" -m -u -i -n -p -r -w -- "${CLEAN_ENV[@]}" "$@"
}

cgroup2_run() { # cgroup2_run CMD: CMD in a private mount namespace that has cgroup v2 at /sys/fs/cgroup
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    sh -c "$1"
  else
    unshare -m --propagation private sh -c "mount -t cgroup2 none /sys/fs/cgroup && $1"
  fi
}

prepare_node_root() {
  local n=$1 v=$VAR/n$1
  mkdir -p "$v/upper" "$v/work" "$v/root"
  mountpoint -q "$v/root" && return 0
  mount -t overlay overlay -o "lowerdir=$IMAGE_DIR,upperdir=$v/upper,workdir=$v/work" "$v/root" \
    || die "node $n: cannot mount an overlay of $IMAGE_DIR on $v/root"
  echo "haproxy$n" >"$v/root/etc/hostname"
}

boot_node() { # boot_node N: starts node N (a first boot or a reboot) and waits until it is up
  local n=$1 v=$VAR/n$1 cg=$P-n$1
  [ -z "$(node_pid1 "$n")" ] || die "node $n is already running"
  prepare_node_root "$n"
  : >>"$v/console.log"
  # nspawn moves itself into a cgroup of its own, named after the node, on cgroup2.
  local nspawn="mkdir -p /sys/fs/cgroup/$cg && echo \$\$ >/sys/fs/cgroup/$cg/cgroup.procs && exec systemd-nspawn --quiet --boot
    --directory=$v/root --machine=$cg --hostname=haproxy$n --register=no --keep-unit
    --network-namespace-path=/run/netns/$(ns "$n") --capability=CAP_NET_ADMIN
    --bind-ro=$DIR/pkg:/srv/pkg --bind=$DIR/ca:/srv/ca"
  nspawn=${nspawn//$'\n'/ }
  local launch=(sh -c "$nspawn")
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || launch=(unshare -m --propagation private sh -c "mount -t cgroup2 none /sys/fs/cgroup && $nspawn")
  # every step execs: $! is nspawn itself, and its child the node's PID 1
  (cd / && exec setsid "${CLEAN_ENV[@]}" "${launch[@]}") >>"$v/console.log" 2>&1 </dev/null &
  echo $! >"$v/nspawn.pid"
  wait_booted "$n"
}

wait_booted() {
  local n=$1 state=
  for _ in $(seq $((BOOT_TIMEOUT_S * 4))); do
    if [ -n "$(node_pid1 "$n")" ]; then
      # `|| true` outside: node_run dies (exit) when PID 1 changes under it (nspawn's first child
      # hands over to the node's PID 1), and an exit inside $(...) skips an `|| true` in there;
      # under errexit the failed assignment then ended the boot with no message.
      state=$(node_run "$n" systemctl is-system-running 2>/dev/null) || true
      case $state in running | degraded) return 0 ;; esac
    elif ! kill -0 "$(node_nspawn_pid "$n")" 2>/dev/null; then
      die "node $n: systemd-nspawn exited while booting; its console ($VAR/n$n/console.log) ends:
$(tail -20 "$VAR/n$n/console.log")"
    fi
    sleep 0.25
  done
  die "node $n did not boot within $BOOT_TIMEOUT_S s (systemctl is-system-running: ${state:-no answer}); console: $(tail -5 "$VAR/n$n/console.log")"
}

poweroff_node() { # poweroff_node N: `systemctl poweroff` inside, and wait until nspawn has exited
  local n=$1 nspawn
  nspawn=$(node_nspawn_pid "$n")
  [ -n "$(node_pid1 "$n")" ] || return 0
  node_run "$n" systemctl poweroff >/dev/null 2>&1 || true
  for _ in $(seq 240); do kill -0 "$nspawn" 2>/dev/null || return 0; sleep 0.25; done
  die "node $n did not power off within 60 s"
}

provision_node() { # provision_node N: vagrant/provision.sh inside node N, as Vagrant runs it
  local n=$1 other=$((3 - $1))
  node_run "$n" env HA_NODE="$n" HA_SELF_IP="$(ip_of "$n")" HA_PEER_IP="$(ip_of "$other")" HA_VIP="$VIP/24" \
    HA_PGBOUNCER_IP="$NET.20" HA_IFACE=eth0 HA_DEB=/srv/pkg HA_CA_DIR=/srv/ca HA_CLUSTER_TOKEN="$(cat "$DIR/cluster.token")" \
    HA_WEBHOOK_URL="http://$NET.50:8080/hook" bash /srv/pkg/provision.sh >"$VAR/n$n/provision.log" 2>&1 \
    || die "node $n: provision.sh failed; its output ($VAR/n$n/provision.log) ends:
$(tail -20 "$VAR/n$n/provision.log")"
}

stage_package() { # the .deb of this build (or LAB_DEB) and provision.sh, where the nodes see them
  local deb=${LAB_DEB:-}
  if [ -z "$deb" ]; then
    say "building the .deb from dist/ (deb/build.sh)"
    deb=$(cd "$ROOT" && bash deb/build.sh) || die "deb/build.sh failed"
    deb=$ROOT/$deb
  fi
  [ -f "$deb" ] || die "no .deb at $deb"
  mkdir -p "$DIR/pkg" "$DIR/ca"
  cp "$deb" "$DIR/pkg/"
  cp "$ROOT/vagrant/provision.sh" "$DIR/pkg/provision.sh"
}

booting() { # booting N: boot_node N in a subshell that names the command it stopped on
  local node=$1
  (
    set -E
    trap 'printf "lab: node %s: \"%s\" failed (exit %s, %s line %s)\n" "$node" "$BASH_COMMAND" "$?" "${BASH_SOURCE[0]##*/}" "$LINENO" >&2' ERR
    boot_node "$node"
  )
}

booted_up() {
  command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (apt-get install systemd-container)"
  ensure_image
  stage_package
  mkdir -p "$VAR"
  # The token both nodes share, as the Vagrantfile keeps one.
  (umask 0077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/cluster.token")
  say "booting node 1 and node 2 (Debian $SUITE, systemd-nspawn -b)"
  # Each boot says where it stopped: a command failing under errexit has no message of its own.
  booting 1 &
  local b1=$!
  booting 2 || die "node 2 did not boot"
  wait $b1 || die "node 1 did not boot (exit $?)"
  for n in 1 2; do
    say "node $n ($(ns "$n"), $(ip_of "$n")): vagrant/provision.sh installs $(basename "$(ls "$DIR"/pkg/*.deb | tail -n 1)")"
    provision_node "$n"
  done
}

booted_holder_ready() { # both keepalived in a VRRP state (Debian's unit logs to the journal)
  local n
  for n in 1 2; do
    node_run "$n" journalctl -u keepalived -b --no-pager -q 2>/dev/null | grep -q 'Entering [A-Z]* STATE' || return 1
  done
}

booted_status() {
  local n
  for n in 1 2; do
    echo "--- node $n"
    if [ -n "$(node_pid1 "$n")" ]; then
      node_run "$n" systemctl is-active haproxy ha-agent keepalived | paste -sd' ' | sed 's/^/haproxy ha-agent keepalived: /'
      node_run "$n" ha-agent status 2>&1 | sed -n '1,6p' || true
    else
      echo "powered off"
    fi
  done
  cat <<EOF

Look around:
  bash $0 exec 1 ha-agent status                       # inside node 1 (a booted Debian: systemd, journald)
  bash $0 exec 1 journalctl -u ha-agent -u keepalived -f
  bash $0 exec 1 systemctl status ha-agent
  bash $0 poweroff 2; bash $0 boot 2                    # a node powered off and booted again
  bash $0 down                                          # remove every trace (the image stays cached in $LAB_CACHE)
EOF
}

booted_down() {
  local n nspawn
  for n in 1 2; do
    nspawn=$(node_nspawn_pid "$n")
    if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
      # a node is powered off, not pulled: systemd stops its units (fast)
      node_run "$n" systemctl poweroff >/dev/null 2>&1 || true
      for _ in $(seq 80); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.25; done
      kill -KILL "$nspawn" 2>/dev/null || true
    fi
    mountpoint -q "$VAR/n$n/root" && { umount "$VAR/n$n/root" 2>/dev/null || umount -l "$VAR/n$n/root"; }
  done
  # the nodes' cgroups (empty now) live in the cgroup2 hierarchy
  cgroup2_run "rmdir /sys/fs/cgroup/$P-n1 /sys/fs/cgroup/$P-n2 2>/dev/null; true"
  rm -rf --one-file-system "$VAR"
}
