#!/usr/bin/env bash
# bench/pgloader/run.sh: a whole MariaDB database into PostgreSQL, pgloader
# against weir copy, side by side in one run (a script, not CI).
#
# It starts a throwaway MariaDB and PostgreSQL (temporary directories, free
# ports on 127.0.0.1, durability off on both), builds the test shop of
# internal/mariatest (5 tables, --rows rows: customers, products, orders,
# order_items with a composite key, events without a primary key), then
# runs each command --rounds times into a fresh PostgreSQL database, the
# commands rotated within a round, and prints every wall time, the median
# and range per command, and rows/s. Both servers are stopped and removed
# at the end, also on failure or Ctrl-C.
#
# Usage: bench/pgloader/run.sh [--rows N] [--rounds N] [--weir CMD]
#
#   --rows N     rows of the database (default 1100000)
#   --rounds N   rounds (default 3)
#   --weir CMD   the weir command to compare, with MYSQL_URL and PG_URL
#                replaced (default: none until weir copy takes mysql://),
#                e.g. --weir 'weir copy MYSQL_URL PG_URL'
set -euo pipefail
cd "$(dirname "$0")/../.."

rows=1100000
rounds=3
weir_cmd=""
while [ $# -gt 0 ]; do
	case "$1" in
	--rows) rows=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--weir) weir_cmd=$2; shift 2 ;;
	*) echo "run.sh: unknown flag $1" >&2; exit 2 ;;
	esac
done

tmp=$(mktemp -d /tmp/weir-pgloader-bench.XXXXXX)
chmod 755 "$tmp"
mypid="" pgdata="$tmp/pg" pguser=""
as_pg() { if [ -n "$pguser" ]; then runuser -u "$pguser" -- "$@"; else "$@"; fi; }
cleanup() {
	trap - EXIT INT TERM
	[ -n "$mypid" ] && kill "$mypid" 2>/dev/null && wait "$mypid" 2>/dev/null || true
	[ -f "$pgdata/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	exit 1
}

# MariaDB.
myport=$(free_port)
root=()
[ "$(id -u)" -eq 0 ] && root=(--user=root)
mariadb-install-db --no-defaults --datadir="$tmp/my" --auth-root-authentication-method=normal \
	--skip-test-db "${root[@]}" >"$tmp/install.log" 2>&1
/usr/sbin/mariadbd --no-defaults --datadir="$tmp/my" --socket="$tmp/my.sock" --port="$myport" \
	--bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin --character-set-server=utf8mb4 \
	--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-buffer-pool-size=512M \
	--log-error="$tmp/mariadb.log" "${root[@]}" &
mypid=$!
for _ in $(seq 600); do mariadb --no-defaults -S "$tmp/my.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
mariadb --no-defaults -S "$tmp/my.sock" -uroot -e "CREATE DATABASE shop CHARACTER SET utf8mb4;
	CREATE USER bench@'127.0.0.1' IDENTIFIED BY 'bench'; GRANT ALL ON *.* TO bench@'127.0.0.1'"
MYSQL_URL="mysql://bench:bench@127.0.0.1:$myport/shop"
go run ./internal/mariatest/gendb -url "$MYSQL_URL" -rows "$rows"
mariadb --no-defaults -S "$tmp/my.sock" -uroot -e "ANALYZE TABLE shop.customers, shop.products, shop.orders, shop.order_items, shop.events" >/dev/null

# PostgreSQL.
find_initdb() { command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1; }
pgbin=$(dirname "$(readlink -f "$(find_initdb)")")
if [ "$(id -u)" -eq 0 ]; then pguser=postgres; id -u postgres >/dev/null 2>&1 || pguser=nobody; chown "$pguser" "$tmp"; fi
pgport=$(free_port)
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$tmp/initdb.log" 2>&1
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/postgres.log" -w -t 60 -o "-k $tmp -h 127.0.0.1 -p $pgport \
	-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off \
	-c max_wal_size=8GB -c checkpoint_timeout=30min" start >/dev/null
psql_() { psql -X -q -h 127.0.0.1 -p "$pgport" -U postgres "$@"; }

total=$(mariadb --no-defaults -S "$tmp/my.sock" -uroot -N -e "SELECT
	(SELECT COUNT(*) FROM shop.customers) + (SELECT COUNT(*) FROM shop.products) + (SELECT COUNT(*) FROM shop.orders) +
	(SELECT COUNT(*) FROM shop.order_items) + (SELECT COUNT(*) FROM shop.events)")
echo "database: $total rows in 5 tables; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# pgloader casts zero dates to NULL only in columns whose default is one;
# the shop has them in a nullable DATE column, so say it as a user would.
names=(pgloader) cmds=("pgloader $tmp/shop.load")
[ -n "$weir_cmd" ] && names+=(weir) cmds+=("$weir_cmd")
declare -A times
for round in $(seq "$rounds"); do
	for k in $(seq 0 $((${#names[@]} - 1))); do
		i=$(((k + round) % ${#names[@]}))
		db="t_${names[$i]}_$round"
		psql_ -c "CREATE DATABASE $db" postgres
		pg_url="postgresql://postgres@127.0.0.1:$pgport/$db"
		cat >"$tmp/shop.load" <<-LOAD
			LOAD DATABASE FROM $MYSQL_URL INTO $pg_url
			CAST type date to date drop default using zero-dates-to-null;
		LOAD
		cmd=${cmds[$i]//MYSQL_URL/$MYSQL_URL}
		cmd=${cmd//PG_URL/$pg_url}
		start=$(date +%s.%N)
		if ! $cmd >"$tmp/${names[$i]}-$round.log" 2>&1; then
			echo "${names[$i]} failed:" >&2; tail -20 "$tmp/${names[$i]}-$round.log" >&2; exit 1
		fi
		secs=$(echo "$(date +%s.%N) - $start" | bc)
		count=$(psql_ -At -d "$db" -c "SELECT 'SELECT ' || string_agg(format('(SELECT count(*) FROM %I.%I)', schemaname, tablename), ' + ')
			FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
		loaded=$(psql_ -At -d "$db" -c "$count")
		printf 'round %d %-8s %7.2f s  %s rows in PostgreSQL\n' "$round" "${names[$i]}" "$secs" "$loaded"
		if [ "$loaded" != "$total" ] || [ "$round" = 1 ]; then
			[ "$loaded" = "$total" ] || echo "  ${names[$i]} loaded $loaded rows of $total" >&2
			grep -E "ERROR|WARNING" "$tmp/${names[$i]}-$round.log" | head -5 | cut -c1-300 | sed "s/^/    /" || true
			tail -n 25 "$tmp/${names[$i]}-$round.log" | sed 's/^/    /'
		fi
		times[${names[$i]}]+="$secs "
		psql_ -c "DROP DATABASE $db" postgres
	done
done
for n in "${names[@]}"; do
	# shellcheck disable=SC2086
	set -- $(printf '%s\n' ${times[$n]} | sort -n)
	all=("$@")
	med=${all[$((${#all[@]} / 2))]}
	printf '%-8s median %.2f s [%.2f..%.2f], %.0f rows/s\n' "$n" "$med" "${all[0]}" "${all[-1]}" "$(echo "$total / $med" | bc -l)"
done
