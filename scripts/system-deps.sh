#!/usr/bin/env bash
# System services the test suite talks to for real: a PostgreSQL server on 127.0.0.1:5432 (trust auth)
# and Debian's Chromium for the browser tests. Idempotent; needs root (or sudo) for apt and pg_ctlcluster.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium (browser tests)"
  apt_install chromium fonts-noto-core
fi
if ! command -v pdftotext >/dev/null 2>&1; then
  echo "installing poppler-utils (report PDF tests read the text back with pdftotext)"
  apt_install poppler-utils
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1 || ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "installing a PostgreSQL server"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # The tests connect as postgres over TCP without a password, as on the project's machines.
  if ! grep -q "citydip-trust" "$hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust # citydip-trust\nhost all all ::1/128 trust # citydip-trust\nlocal all all trust # citydip-trust' "$hba"
  fi
  echo "starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up && echo "PostgreSQL ready on 127.0.0.1:5432"
