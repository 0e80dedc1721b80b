#!/usr/bin/env bash
# Regenerate requirements.lock: the exact version of every package (direct and transitive) that a fresh venv
# installs for `pip install -e '.[dev]'`.  The README's commands and .ci/run install with
# `-c requirements.lock`, so every machine runs the versions the tests last passed with.
#
#   bash scripts/lock.sh             keep the locked versions, add (or drop) what pyproject.toml's changes need
#   bash scripts/lock.sh --upgrade   re-resolve everything to the newest versions pyproject.toml's ranges allow
#
# Optional last argument: a venv directory to build in (kept afterwards; default: a temporary one).
# Needs python3 and PyPI; about a minute.  Then run the tests and commit pyproject.toml and the lock together.
set -euo pipefail
cd "$(dirname "$0")/.."
upgrade=""
if [ "${1:-}" = "--upgrade" ]; then upgrade=1; shift; fi
venv=${1:-$(mktemp -d)/venv}
python3 -m venv "$venv"
constraints=()
if [ -z "$upgrade" ] && [ -f requirements.lock ]; then constraints=(-c requirements.lock); fi
"$venv/bin/python" -m pip install -q "${constraints[@]}" -e '.[dev]'
"$venv/bin/python" -m pip check
python_version=$("$venv/bin/python" -c 'import platform; print(platform.python_version(), platform.machine())')
{
  echo "# Exact versions of every dependency of citydiplomacy[dev], as a fresh venv installs them (Python $python_version)."
  echo "# Regenerate with: bash scripts/lock.sh  (keeps these versions; --upgrade for the newest within the ranges)."
  echo "# Installed as constraints: python -m pip install -c requirements.lock -e '.[dev]'"
  "$venv/bin/python" -m pip freeze --exclude-editable  # leaves out pip, setuptools and wheel
} >requirements.lock.tmp
mv requirements.lock.tmp requirements.lock
echo "wrote requirements.lock ($(grep -cv '^#' requirements.lock) packages)"
