#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, for the container path of
# the bundled reference (package refcontainer). Idempotent:
#
#   .ci/docker.sh        if `docker info` already works: does nothing and says
#                        so. Otherwise installs Debian's docker.io (when
#                        dockerd is missing), starts dockerd in the background
#                        (log /tmp/dockerd.log, pidfile /tmp/attrconform-dockerd.pid),
#                        waits up to 60 s for `docker info`, and prints
#                        DOCKERD_STARTED_BY_CI=1 as its last line.
#   .ci/docker.sh stop   stops the daemon only if this script started it (its
#                        pidfile); a machine that already had Docker is left
#                        as it was.
#
# Nothing is pulled: the reference image is built locally FROM scratch.
set -euo pipefail

PIDFILE=${ATTRCONFORM_DOCKERD_PIDFILE:-/tmp/attrconform-dockerd.pid}
LOG=${ATTRCONFORM_DOCKERD_LOG:-/tmp/dockerd.log}

say() { echo "docker.sh: $*"; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

ours_running() {
	[[ -f $PIDFILE ]] && [[ $(cat "/proc/$(cat "$PIDFILE")/comm" 2>/dev/null) == dockerd ]]
}

stop() {
	if ! [[ -f $PIDFILE ]]; then
		say "no daemon started by this script (no $PIDFILE); leaving Docker as it is"
		return 0
	fi
	local pid
	pid=$(cat "$PIDFILE")
	if ! kill -0 "$pid" 2>/dev/null; then
		say "dockerd $pid from $PIDFILE is not running; removing the stale pidfile"
		rm -f "$PIDFILE"
		return 0
	fi
	# Only a dockerd process: never signal a recycled pid of something else.
	if [[ $(cat "/proc/$pid/comm" 2>/dev/null) != dockerd ]]; then
		say "pid $pid from $PIDFILE is not dockerd; removing the stale pidfile and leaving it alone"
		rm -f "$PIDFILE"
		return 0
	fi
	say "stopping dockerd $pid (started by this script)"
	kill -TERM "$pid"
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "dockerd $pid did not stop within 30 s"
		return 1
	fi
	rm -f "$PIDFILE"
	say "dockerd stopped"
}

start() {
	if command -v docker >/dev/null && engine_answers; then
		say "a Docker engine already answers (docker info works); nothing to do"
		return 0
	fi
	if ours_running; then
		say "dockerd $(cat "$PIDFILE") started earlier by this script is running; waiting for it"
	else
		if ! command -v dockerd >/dev/null; then
			[[ $(id -u) == 0 ]] || { say "dockerd is missing and installing it needs root"; return 1; }
			say "installing Debian's docker.io"
			export DEBIAN_FRONTEND=noninteractive
			apt-get update -qq
			apt-get install -y -qq --no-install-recommends docker.io >/tmp/docker-install.log 2>&1 || {
				tail -20 /tmp/docker-install.log
				say "apt-get install docker.io failed (log: /tmp/docker-install.log)"
				return 1
			}
			if engine_answers; then # the package's own service started it
				say "docker.io installed and its engine answers; nothing more to do"
				return 0
			fi
		fi
		[[ $(id -u) == 0 ]] || { say "starting dockerd needs root"; return 1; }
		say "starting dockerd in the background (log: $LOG)"
		# setsid: the daemon outlives this script and its shell's job control.
		# dockerd writes its own pidfile; ours is the one `stop` trusts.
		setsid dockerd >"$LOG" 2>&1 </dev/null &
		echo $! >"$PIDFILE"
	fi
	for i in $(seq 1 60); do
		if engine_answers; then
			say "Docker engine answers after ${i} s"
			echo "DOCKERD_STARTED_BY_CI=1"
			return 0
		fi
		if ! ours_running; then
			tail -20 "$LOG" || true
			say "dockerd exited (log: $LOG)"
			rm -f "$PIDFILE"
			return 1
		fi
		sleep 1
	done
	tail -20 "$LOG" || true
	say "docker info still fails after 60 s (log: $LOG)"
	return 1
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 [start|stop]" >&2
	exit 2
	;;
esac
