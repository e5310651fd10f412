#!/bin/sh
# ha-agent's launcher (/usr/bin/ha-agent). keepalived runs `ha-agent check` every
# second, forever: Node.js alone takes ~100-150 ms of CPU to start, so while the
# daemon is up this script answers `check` from the verdict the daemon publishes
# (runtime_dir/verdict, see src/launcher/verdict-file.ts) with shell builtins
# only: no process is started. Everything else, and `check` whenever the verdict
# is missing, stale, foreign or the arguments are anything but the plain forms,
# execs Node.js with the same arguments, which answers as it always has.
#
# --- install paths: deb/build.sh and lab/lab.sh rewrite these lines ---
HA_AGENT_NODE=/usr/bin/node
HA_AGENT_JS=/usr/lib/ha-agent/ha-agent.js
HA_AGENT_DEFAULT_CONFIG=/etc/ha-agent/config.yaml
HA_AGENT_DEFAULT_RUNTIME_DIR=/run/ha-agent
# --- end of install paths ---

# Node.js flags for the daemon (`ha-agent run`) alone, here so that the systemd
# unit and the lab get the same ones. Measured in the lab at the shipped
# intervals (bench/RESULTS.md, daemon variants): RSS 83 MB with none, 76 with
# the small young generation and one V8 worker thread, 58 with all four, CPU
# unchanged within the noise. --lite-mode runs V8 without its optimising JIT and
# without WebAssembly (nothing in the daemon uses it; see scripts/build.mjs for
# the one dependency that touched it); --max-old-space-size=64 makes V8 keep a
# smaller heap, with room for three times the ~19 MB the daemon uses.
# --no-expose-wasm says outright what --lite-mode implies: without it V8 prints
# "Warning: disabling flag --expose_wasm due to conflicting flags" to the
# journal at every start.
HA_AGENT_RUN_FLAGS='--lite-mode --no-expose-wasm --max-old-space-size=64 --max-semi-space-size=1 --v8-pool-size=1'

# A non-standard default config (the lab's) is passed to Node.js the way an
# operator would: HA_AGENT_CONFIG, which only applies when no --config is given.
if [ "$HA_AGENT_DEFAULT_CONFIG" != /etc/ha-agent/config.yaml ] && [ -z "${HA_AGENT_CONFIG+set}" ]; then
  HA_AGENT_CONFIG=$HA_AGENT_DEFAULT_CONFIG
  export HA_AGENT_CONFIG
fi

# --timeout MS: Node.js takes any positive integer; plain digits are all the
# fast path needs (the answer does not depend on it: the verdict is fresh).
ms() { case $1 in '' | *[!0-9]*) extra=1 ;; *[1-9]*) ;; *) extra=1 ;; esac; }

# One pass over the arguments, "$@" left as it is for the exec.
want= cmd= cfg= cfgset= json= extra=
for a do
  case $want in
    config) cfg=$a cfgset=1 want= ; continue ;;
    timeout) ms "$a" ; want= ; continue ;;
  esac
  case $a in
    --config) want=config ;;
    --config=*) cfg=${a#--config=} cfgset=1 ;;
    *)
      if [ -z "$cmd" ]; then
        cmd=$a
      elif [ "$cmd" = check ]; then
        case $a in
          --json) [ -z "$json" ] && json=1 || extra=1 ;;
          --timeout) want=timeout ;;
          --timeout=*) ms "${a#--timeout=}" ;;
          *) extra=1 ;;
        esac
      fi
      ;;
  esac
done

if [ "$cmd" = run ]; then
  # shellcheck disable=SC2086 # the flags are words
  exec "$HA_AGENT_NODE" $HA_AGENT_RUN_FLAGS "$HA_AGENT_JS" "$@"
fi
if [ "$cmd" != check ] || [ -n "$want$extra" ]; then
  exec "$HA_AGENT_NODE" "$HA_AGENT_JS" "$@"
fi

# --- the fast path of `check` ---
if [ -z "$cfgset" ]; then cfg=${HA_AGENT_CONFIG-$HA_AGENT_DEFAULT_CONFIG}; fi
# The daemon names the absolute path it runs; a relative one is Node.js's to resolve.
case $cfg in /*) ;; *) exec "$HA_AGENT_NODE" "$HA_AGENT_JS" "$@" ;; esac

# "Now", with builtins: the inode times of /proc/$$ are set when the kernel first
# looks that directory up, after this process was forked (milliseconds ago) and
# at the latest right here. -ef makes sure /proc is this process's own PID
# namespace's (a foreign /proc/$$ is another process, maybe an old one).
now=/proc/$$
[ /proc/self -ef "$now" ] || exec "$HA_AGENT_NODE" "$HA_AGENT_JS" "$@"

# answer DIR: prints and exits when DIR/verdict is fresh, of this config and well
# formed; returns otherwise, having printed nothing.
answer() {
  # fresh: its mtime (the expiry the daemon set) is later than now
  [ "$1/verdict" -nt "$now" ] || return 0
  {
    IFS= read -r l || return 0
    [ "$l" = 'ha-agent-verdict 1' ] || return 0
    IFS= read -r l || return 0
    case $l in 'exit 0' | 'exit 1') code=${l#exit } ;; *) return 0 ;; esac
    IFS= read -r l || return 0
    [ "$l" = "config $cfg" ] || return 0
    IFS= read -r l || return 0
    case $l in 'lines '[1-9] | 'lines '[1-9][0-9]) n=${l#lines } ;; *) return 0 ;; esac
    out=
    while [ "$n" -gt 0 ] && IFS= read -r l; do
      case $l in 'text '*) ;; *) return 0 ;; esac
      out="$out${l#text }
"
      n=$((n - 1))
    done
    [ "$n" = 0 ] || return 0
    if [ -n "$json" ]; then
      IFS= read -r l || return 0
      case $l in 'json '*) ;; *) return 0 ;; esac
      out="${l#json }
"
    fi
  } 2>/dev/null <"$1/verdict" || return 0
  printf '%s' "$out"
  exit "$code"
}

answer "$HA_AGENT_DEFAULT_RUNTIME_DIR"
# Another runtime_dir: the config's top-level `runtime_dir:` line, when it is a
# plain absolute path (anything fancier is Node.js's to read).
rt=
while IFS= read -r l; do
  case $l in
    'runtime_dir:'*)
      rt=${l#runtime_dir:}
      rt=${rt%%#*}
      while :; do case $rt in ' '*) rt=${rt# } ;; *' ') rt=${rt% } ;; *) break ;; esac; done
      case $rt in /*) ;; *) rt= ;; esac
      case $rt in *[!A-Za-z0-9/._+@:=,-]*) rt= ;; esac
      break
      ;;
  esac
done 2>/dev/null <"$cfg"
[ -n "$rt" ] && [ "$rt" != "$HA_AGENT_DEFAULT_RUNTIME_DIR" ] && answer "${rt%/}"
exec "$HA_AGENT_NODE" "$HA_AGENT_JS" "$@"
