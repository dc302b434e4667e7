#!/usr/bin/env bash
# Install CKAN 2.12 for tests/test_publish_ckan_real.py into its own virtualenv, once:
#   $EVENTDATA_CKAN_HOME/venv (default ~/.cache/eventdata/ckan-2.12.0/venv), kept between runs.
# Also makes sure Debian's PostgreSQL is there (the tests start a throwaway cluster from it).
# Prints how long the install took; a second run finds it installed and returns at once.
set -euo pipefail
version=2.12.0
home="${EVENTDATA_CKAN_HOME:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/eventdata/ckan-$version}"
venv="$home/venv"
start=$(date +%s)

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null && ! command -v initdb > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null
    else
        echo "real_ckan_setup.sh: PostgreSQL is missing (apt-get install postgresql)" >&2
        exit 1
    fi
fi

if [ "$(cat "$venv/installed" 2> /dev/null)" != "$version" ]; then
    rm -rf "$venv"
    mkdir -p "$home"
    python3 -m venv "$venv"
    # CKAN pins its own dependencies in the `requirements` extra; it never shares eventdata's venv.
    if ! "$venv/bin/pip" install -q "ckan[requirements]==$version" > "$home/pip.log" 2>&1; then
        cat "$home/pip.log" >&2
        exit 1
    fi
    "$venv/bin/python" -c "import ckan, sys; sys.exit(ckan.__version__ != \"$version\")"
    echo "$version" > "$venv/installed"
    echo "real_ckan_setup.sh: installed CKAN $version at $venv in $(($(date +%s) - start)) s" >&2
else
    echo "real_ckan_setup.sh: CKAN $version already at $venv" >&2
fi
