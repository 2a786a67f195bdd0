#!/usr/bin/env bash
# Sets up the PostgreSQL that the ledger's PostgreSQL tests (tag "postgres") run against. Idempotent; run as root.
#
#   .ci/postgres-setup.sh            prints:  export SQUEEZE_TEST_PG_URL=jdbc:postgresql://...
#   eval "$(.ci/postgres-setup.sh)"  sets it in the calling shell
#   source .ci/postgres-setup.sh     same, for shells that source
#
# Then: ./mvnw -B -pl compress test   (the postgres profile switches on when SQUEEZE_TEST_PG_URL is set)
#
# It installs Debian's postgresql package if missing, creates and starts the newest cluster (or the one named
# by PG_VERSION / PG_CLUSTER), waits until it answers, and creates role squeeze (password squeeze) owning
# database squeeze_test. Progress goes to stderr; only the export line goes to stdout.

_squeeze_pg_setup() (
    set -euo pipefail
    say() { echo "postgres-setup: $*" >&2; }

    if [ "$(id -u)" -ne 0 ]; then
        say "run as root (it installs packages and switches to the postgres user)"
        exit 1
    fi

    if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
        say "installing postgresql"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi

    version="${PG_VERSION:-$(ls /usr/lib/postgresql | sort -n | tail -1)}"
    cluster="${PG_CLUSTER:-main}"

    if ! pg_lsclusters -h "$version" "$cluster" >/dev/null 2>&1 \
            || [ -z "$(pg_lsclusters -h "$version" "$cluster" 2>/dev/null)" ]; then
        say "creating cluster $version/$cluster"
        pg_createcluster "$version" "$cluster" >&2
    fi

    # Containers often lack the socket folder that systemd-tmpfiles would have made.
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql

    # pg_lsclusters -h: version cluster port status owner datadir logfile
    read -r _ _ port status _ < <(pg_lsclusters -h "$version" "$cluster")
    if [ "$status" != "online" ]; then
        say "starting cluster $version/$cluster on port $port"
        pg_ctlcluster "$version" "$cluster" start >&2
    fi

    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p "$port" && break
        sleep 1
    done
    pg_isready -q -h 127.0.0.1 -p "$port" || { say "cluster $version/$cluster does not answer on port $port"; exit 1; }

    as_postgres() { runuser -u postgres -- "$@"; }
    as_postgres psql -q -p "$port" -v ON_ERROR_STOP=1 -d postgres >&2 <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'squeeze') THEN
    CREATE ROLE squeeze LOGIN PASSWORD 'squeeze';
  ELSE
    ALTER ROLE squeeze LOGIN PASSWORD 'squeeze';
  END IF;
END
$$;
SQL
    if [ "$(as_postgres psql -p "$port" -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'squeeze_test'")" != "1" ]; then
        say "creating database squeeze_test"
        as_postgres createdb -p "$port" -O squeeze -E UTF8 -T template0 squeeze_test >&2
    fi

    echo "jdbc:postgresql://127.0.0.1:${port}/squeeze_test?user=squeeze&password=squeeze"
)

if _squeeze_pg_url="$(_squeeze_pg_setup)"; then
    if [ "${BASH_SOURCE[0]}" != "$0" ]; then
        export SQUEEZE_TEST_PG_URL="$_squeeze_pg_url"
        echo "postgres-setup: SQUEEZE_TEST_PG_URL=$SQUEEZE_TEST_PG_URL" >&2
    else
        echo "export SQUEEZE_TEST_PG_URL='$_squeeze_pg_url'"
    fi
    unset _squeeze_pg_url
else
    unset _squeeze_pg_url
    # return when sourced (keeps the caller's shell alive), exit when run
    return 1 2>/dev/null || exit 1
fi
