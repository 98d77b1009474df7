#!/usr/bin/env bash
# tune-proof.sh [SAMPLE] — the measurements of docs/TUNING.md's "weir tune"
# section: `weir tune --grid` on three jobs (CSV → PostgreSQL, CSV →
# SQLite, a CPU-heavy expression job file → PostgreSQL), each comparing the
# search's pick with the best cell of the exhaustive grid on the same
# sample. It starts a throwaway PostgreSQL (initdb into a temporary
# directory, as bench/pgload/run.sh does) and removes everything at the
# end; the outputs and charts go to ./tune-proof/.
set -euo pipefail
sample=${1:-100000}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$PWD/tune-proof
work=$(mktemp -d /tmp/tune-proof.XXXXXX)
chmod 755 "$work"
mkdir -p "$out"
pgdata=$work/pg/data
pguser=""
[ "$(id -u)" -ne 0 ] || pguser=postgres
as_pg() { if [ -n "$pguser" ]; then runuser -u "$pguser" -- "$@"; else "$@"; fi; }
cleanup() {
	[ ! -f "$pgdata/postmaster.pid" ] || as_pg pg_ctl -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/pg"
[ -z "$pguser" ] || chown "$pguser" "$work/pg"
as_pg initdb -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$work/initdb.log"
port=$((20000 + RANDOM % 30000))
as_pg pg_ctl -D "$pgdata" -l "$work/pg/log" -w -o "-k $work/pg -h 127.0.0.1 -p $port -c fsync=off \
	-c synchronous_commit=off -c full_page_writes=off -c max_connections=50" start >/dev/null
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE tune"
url="postgres://postgres@127.0.0.1:$port/tune?sslmode=disable"

(cd "$repo" && go build -o "$work/weir" ./cmd/weir)
# 8 columns of the kinds weir copy infers: integers, text, numbers, dates, timestamps.
awk -v n="$sample" 'BEGIN {
	srand(1); print "id,name,email,city,score,qty,day,seen_at"
	for (i = 1; i <= n; i++)
		printf "%d,name %d,user%d@example.com,city %d,%.3f,%d,2024-%02d-%02d,2024-05-01 12:%02d:%02d\n",
			i, i, i, i % 500, rand() * 1000, int(rand() * 100), 1 + i % 12, 1 + i % 28, i % 60, i % 60
}' >"$work/data.csv"
cat >"$work/heavy.yaml" <<'EOF'
# A CPU-heavy job: string work on every record, a filter, two tables.
source: data.csv
target: sqlite:heavy.db
tables:
  - name: people
    key: [id]
    filter: 'int(qty) < 95'
    columns:
      id: bigint
      slug: {type: text, expr: 'lower(replace(name + " " + city, " ", "-"))'}
      words: {type: integer, expr: 'len(split(repeat(name + " " + email + " ", 20), " "))'}
      shout: {type: text, expr: 'upper(repeat(email, 8))'}
      total: {type: double, expr: 'float(score) * int(qty)'}
  - name: cities
    key: [id]
    columns:
      id: bigint
      city: {type: text, expr: 'trim(upper(city))'}
      domain: {type: text, expr: 'split(email, "@")[1]'}
EOF

cd "$work"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt"
"$work/weir" tune data.csv "$url&table=t" --sample "$sample" --grid --chart "$out/pg.png" | tee "$out/pg.txt"
"$work/weir" tune data.csv sqlite:out.db --sample "$sample" --grid --chart "$out/sqlite.png" | tee "$out/sqlite.txt"
"$work/weir" tune heavy.yaml --to "$url" --sample "$sample" --grid --chart "$out/heavy.png" | tee "$out/heavy.txt"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
