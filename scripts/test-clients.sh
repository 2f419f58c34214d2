#!/usr/bin/env bash
# Installs what the test suite drives and is not an npm package: the real AWS CLI v2 and boto3
# (Debian's `awscli` and `python3-boto3`, used as /usr/bin/aws and /usr/bin/python3; the first
# `aws` and `python3` on PATH may be other versions), nats-server, and Debian's `chromium` (the
# browser playwright-core drives in the AnyCompany example's test; Playwright's own download is
# not used), and the PostgreSQL and MariaDB servers whose throwaway instances the change capture
# tests start. `npm test` runs this first, so a missing client is installed, never skipped. Needs
# root or sudo on a machine without them.
set -euo pipefail

missing() {
  local need=()
  [ -x /usr/bin/aws ] || need+=(awscli)
  /usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || need+=(python3-boto3)
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # change capture tests start throwaway database servers of their own (test/helpers)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || [ -x /usr/lib/postgresql/16/bin/initdb ] || need+=(postgresql)
  [ -x /usr/sbin/mariadbd ] || command -v mariadb-install-db >/dev/null 2>&1 || need+=(mariadb-server)
  echo "${need[@]}"
}

need=$(missing)
if [ -n "$need" ]; then
  echo "test clients: installing $need (Debian packages)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "test clients: $need missing and not root (install them with apt-get)" >&2
      exit 1
    fi
  fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  # Waits for another apt-get (an unattended upgrade, say) instead of failing on its lock.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq $need >/dev/null
  still=$(missing)
  if [ -n "$still" ]; then
    echo "test clients: still missing after apt-get: $still" >&2
    exit 1
  fi
fi
nats=$(command -v nats-server || echo /usr/sbin/nats-server)
echo "test clients: $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1), boto3 $(/usr/bin/python3 -c 'import boto3; print(boto3.__version__)'), $("$nats" --version), $(chromium --version 2>/dev/null | head -1)"
