#!/usr/bin/env bash
# Real peers for end-to-end tests, from Debian packages: Prometheus, Alertmanager, kubectl, and redis-server (the
# Celery tests start and kill their own instance on a spare port).
# Best effort: without root or apt, tests that need them skip and say why. Never starts the packaged services
# (tests run their own instances on spare ports).
set -uo pipefail
need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -eq 0 ]; then
  echo "peers present: prometheus, alertmanager, kubectl, redis-server"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "cannot install ${need[*]} (needs root and apt-get); e2e tests that need them will be skipped"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d stops the packages' postinst from starting services during the install.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1; fi
apt-get update -qq >/dev/null 2>&1 || true
if apt-get install -y -qq --no-install-recommends "${need[@]}" >/tmp/aetherius-peers.log 2>&1; then
  echo "installed: ${need[*]}"
else
  echo "could not install ${need[*]} (see /tmp/aetherius-peers.log); e2e tests that need them will be skipped"
fi
[ "$created_policy" = 1 ] && rm -f "$policy"
# The packaged daemons must not hold the ports our tests use.
pkill -x prometheus 2>/dev/null; pkill -f prometheus-alertmanager 2>/dev/null
exit 0
