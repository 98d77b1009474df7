#!/usr/bin/env bash
# bench/pgload/run.sh measures weir's PostgreSQL loading against what users
# would otherwise pick, side by side in one run on this machine:
#
#   1. COPY ceiling: a bare pgx CopyFrom loop of pre-built rows vs weir
#      (source → pipeline → postgres.Sink), several batch sizes and
#      LoadConcurrency values, each weir load against the bare loop on as
#      many connections;
#   2. CSV → PostgreSQL: weir (connect/file CSV → postgres.Sink), psql \copy and
#      pgloader (2 workers), alternately, each into a freshly truncated table
#      with a primary key, each checked with SELECT count(*);
#   3. the reference job, `weir migrate`, into PostgreSQL (defaults, a small
#      config sweep, the best config) and into SQLite, with peak RSS;
#   4. optionally (--flat-users), peak RSS of a much larger migrate.
#
# It starts its own throwaway PostgreSQL (initdb into a temporary directory,
# as the postgres user when run as root; fsync, synchronous_commit,
# full_page_writes and autovacuum off; a Unix socket and a free TCP port on
# 127.0.0.1; every loader connects over TCP), and stops and removes it at the
# end, also on failure or Ctrl-C. Missing pgloader or GNU time are installed
# with apt-get when possible; without pgloader its rows are skipped with a
# note. It prints a Markdown report, also written to OUT/report.md with the
# raw measurements (OUT/results.jsonl) and every loader's log.
#
# Usage: bench/pgload/run.sh [flags]   (from anywhere; about 17 minutes with the defaults on a quiet 2-core machine)
#
#   --runs N          runs of every measurement; medians are reported (default 3)
#   --copy-rows N     rows of the COPY-ceiling bench; 0 skips it (default 1000000)
#   --batches L       its batch sizes, comma-separated (default 1000,5000,10000)
#   --load-conc L     its weir LoadConcurrency values, comma-separated (default 1,2)
#   --csv-rows N      rows of the CSV file; 0 skips the CSV bench (default 1000000)
#   --csv-weir C      weir configs for the CSV bench, as pgload flags, ';'-separated
#                     (default "--batch 5000 --load-concurrency 2;--batch 5000 --load-concurrency 1")
#   --users N         users for weir migrate; 0 skips it (default 100000)
#   --blob-size N     bytes of each user's large_data blob (default 1024)
#   --sweep-users N   users for the PostgreSQL config sweep, one run each; 0 skips it (default 10000)
#   --sweep C         migrate configs tried, as weir flags, ';'-separated; "default" means none
#   --copycmd-rows N  rows for the `weir copy` commands, side by side with psql \copy and sqlite3 .import
#                     into the table weir creates, and JSON Lines → PostgreSQL; 0 skips them (default 1000000)
#   --flat-users N    also migrate N users into SQLite, to compare peak RSS with --users; 0 skips (default 0)
#   --flat-runs N     runs of that (default 1)
#   --out DIR         where the report, results and logs go (default: a new temporary directory)
#   --cpuprofile      also write CPU profiles of weir's runs into OUT
set -euo pipefail

runs=3
copy_rows=1000000
batches=1000,5000,10000
load_conc=1,2
csv_rows=1000000
csv_weir="--batch 5000 --load-concurrency 2;--batch 5000 --load-concurrency 1"
users=100000
blob_size=1024
sweep_users=10000
sweep="default;--batch 512;--batch 1024;--batch 256 --load-concurrency 4;--batch 1024 --workers 1 --load-concurrency 2"
flat_users=0
flat_runs=1
copycmd_rows=1000000
out=""
cpuprofile=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift ;;
	--copy-rows) copy_rows=$2; shift ;;
	--batches) batches=$2; shift ;;
	--load-conc) load_conc=$2; shift ;;
	--csv-rows) csv_rows=$2; shift ;;
	--csv-weir) csv_weir=$2; shift ;;
	--users) users=$2; shift ;;
	--blob-size) blob_size=$2; shift ;;
	--sweep-users) sweep_users=$2; shift ;;
	--sweep) sweep=$2; shift ;;
	--flat-users) flat_users=$2; shift ;;
	--flat-runs) flat_runs=$2; shift ;;
	--copycmd-rows) copycmd_rows=$2; shift ;;
	--out) out=$2; shift ;;
	--cpuprofile) cpuprofile=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for v in runs copy_rows csv_rows users blob_size sweep_users flat_users flat_runs; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]]; then
		echo "run.sh: --${v//_/-} must be a whole number, got '${!v}'" >&2
		exit 2
	fi
done
[ "$runs" -ge 1 ] || { echo "run.sh: --runs must be at least 1" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-pgload.XXXXXX")
chmod 755 "$work" # the server's user must reach its directory inside
[ -n "$out" ] || out="$work/out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
results="$out/results.jsonl"
: >"$results"
logs="$out/logs"
mkdir -p "$logs"

say() { printf '%s\n' "$*" >&2; }
notes=()
note() { notes+=("$*"); say "NOTE: $*"; }

# --- the server ------------------------------------------------------------

pgbin=""
pguser=""
pgdata="$work/pg/data"
pgsock="$work/pg"
port=""

as_pg() {
	if [ -n "$pguser" ]; then
		runuser -u "$pguser" -- "$@"
	else
		"$@"
	fi
}

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ -n "$pgbin" ] && [ -f "$pgdata/postmaster.pid" ]; then
		as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	# Everything but the report, results and logs (which may live in $work).
	find "$work" -mindepth 1 -maxdepth 1 ! -path "$out" -exec rm -rf {} + 2>/dev/null || true
	[ "$out" = "$work/out" ] || rmdir "$work" 2>/dev/null || true
	if [ $status -ne 0 ]; then
		say "run.sh: failed (exit $status); logs in $logs"
	fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

apt_install() { # apt_install PACKAGE...: install, updating the lists if needed
	[ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || return 1
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "$@" >>"$logs/apt.log" 2>&1 ||
		{ apt-get update -qq >>"$logs/apt.log" 2>&1 && apt-get install -y -qq "$@" >>"$logs/apt.log" 2>&1; }
}

find_initdb() {
	command -v initdb 2>/dev/null && return 0
	ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}
if [ -z "$(find_initdb)" ] || ! command -v psql >/dev/null; then
	say "installing PostgreSQL (initdb or psql missing)"
	apt_install postgresql || { say "run.sh: PostgreSQL is not installed and could not be"; exit 1; }
fi
pgbin=$(dirname "$(readlink -f "$(find_initdb)")")

if [ ! -x /usr/bin/time ]; then
	say "installing GNU time (for peak RSS)"
	apt_install time || { say "run.sh: /usr/bin/time (Debian package time) is missing and could not be installed"; exit 1; }
fi

have_pgloader=1
if [ "$csv_rows" -gt 0 ] && ! command -v pgloader >/dev/null; then
	say "installing pgloader"
	if ! apt_install pgloader || ! command -v pgloader >/dev/null; then
		have_pgloader=0
		note "pgloader is not installed and could not be installed (see $logs/apt.log): its rows are skipped"
	fi
fi

if [ "$(id -u)" -eq 0 ]; then
	# PostgreSQL refuses to run as root.
	for u in postgres nobody; do
		if id -u "$u" >/dev/null 2>&1; then pguser=$u; break; fi
	done
	[ -n "$pguser" ] || { say "run.sh: running as root and there is no postgres or nobody user"; exit 1; }
fi

free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

mkdir -p "$pgsock"
[ -z "$pguser" ] || chown "$pguser" "$pgsock"
chmod 700 "$pgsock"
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$logs/initdb.log" 2>&1
port=$(free_port)
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgsock/postgres.log" -w -t 60 -o "-k $pgsock -h 127.0.0.1 -p $port \
	-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off \
	-c max_wal_size=8GB -c checkpoint_timeout=30min -c max_connections=50" start >"$logs/pg_ctl.log" 2>&1 ||
	{ cat "$pgsock/postgres.log" >&2; exit 1; }
pm_pid=$(head -n 1 "$pgdata/postmaster.pid")
psql_cmd=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
"${psql_cmd[@]}" -d postgres -c "CREATE DATABASE bench" >/dev/null
url="postgres://postgres@127.0.0.1:$port/bench?sslmode=disable"
sql() { "${psql_cmd[@]}" -d bench -tA -c "$1"; }

# Server CPU: the backends are children of the postmaster, so once one has
# exited and been reaped, its CPU time is in the postmaster's cutime and
# cstime (fields 16 and 17 of /proc/PID/stat, in clock ticks).
hz=$(getconf CLK_TCK)
server_ticks() {
	# Wait (at most 10 s) until no client backend of the bench database
	# remains and no exited one awaits reaping (a zombie has no command
	# line to match), so the last load's backends are counted.
	for _ in $(seq 200); do
		if ! pgrep -P "$pm_pid" -f 'postgres: postgres bench' >/dev/null &&
			! ps --ppid "$pm_pid" -o stat= | grep -q Z; then
			break
		fi
		sleep 0.05
	done
	awk '{print $16 + $17}' "/proc/$pm_pid/stat"
}

# --- binaries ---------------------------------------------------------------

say "building pgload and weir"
(cd "$repo" && go build -o "$work/pgload" ./bench/pgload && go build -o "$work/weir" ./cmd/weir)
pgload="$work/pgload"
weir="$work/weir"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# timed LOG CMD...: runs CMD under GNU time with output to LOG; sets secs
# (wall), cpu (user + system of CMD), rss (peak KiB) and srv (server CPU s).
timed() {
	local log=$1
	shift
	local tf="$work/time.out" t0 t1 s0 s1
	s0=$(server_ticks)
	t0=$(now)
	if ! /usr/bin/time -o "$tf" -f '%U %S %M' "$@" >"$log" 2>&1; then
		say "command failed: $* (log: $log)"
		tail -n 20 "$log" >&2
		return 1
	fi
	t1=$(now)
	s1=$(server_ticks)
	secs=$(elapsed "$t0" "$t1")
	read -r u s rss <"$tf"
	cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	srv=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
}

# --- the machine ------------------------------------------------------------

machine="$out/machine.md"
{
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- nproc: $(nproc); $(lscpu | grep 'Model name' | sed 's/  */ /g')"
	echo "- memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
	echo "- $(uname -sr); $(cd "$repo" && go version)"
	echo "- PostgreSQL: $("$pgbin/postgres" --version) (fsync, synchronous_commit, full_page_writes, autovacuum off; max_wal_size 8GB; loaders over TCP 127.0.0.1)"
	if [ "$have_pgloader" -eq 1 ] && command -v pgloader >/dev/null; then
		echo "- pgloader: $(pgloader --version 2>/dev/null | head -n 1)"
	fi
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$machine"
cat "$machine" >&2

prof() { # prof NAME: the --cpuprofile flag for pgload, if asked for
	[ "$cpuprofile" -eq 1 ] && echo "--cpuprofile $out/$1.prof"
	return 0
}

# --- 1. COPY ceiling ----------------------------------------------------------

if [ "$copy_rows" -gt 0 ]; then
	say "== 1. COPY ceiling: $copy_rows rows, batches $batches, weir LoadConcurrency $load_conc, $runs runs"
	"$pgload" create --url "$url" --table copy_t
	IFS=, read -r -a bs <<<"$batches"
	IFS=, read -r -a lcs <<<"$load_conc"
	# weir with LoadConcurrency lc writes on lc connections: each is compared
	# with the bare loop on lc connections too, at the same batch size.
	for ((r = 1; r <= runs; r++)); do
		"$pgload" copy --url "$url" --table copy_t --rows "$copy_rows" --loader bare --batch 0 --conns 1 --run "$r" --out "$results" >&2
		for b in "${bs[@]}"; do
			for lc in "${lcs[@]}"; do
				"$pgload" copy --url "$url" --table copy_t --rows "$copy_rows" --loader bare --batch "$b" --conns "$lc" --run "$r" --out "$results" >&2
			done
			for lc in "${lcs[@]}"; do
				# shellcheck disable=SC2046
				"$pgload" copy --url "$url" --table copy_t --rows "$copy_rows" --loader weir --batch "$b" \
					--load-concurrency "$lc" --run "$r" --out "$results" $(prof "copy-b$b-lc$lc-r$r") >&2
			done
		done
	done
	sql "DROP TABLE copy_t"
fi

# --- 2. CSV → PostgreSQL --------------------------------------------------------

if [ "$csv_rows" -gt 0 ]; then
	csv="$work/data.csv"
	say "== 2. CSV → PostgreSQL: $csv_rows rows, $runs runs"
	"$pgload" gen --file "$csv" --rows "$csv_rows"
	say "   $(du -h "$csv" | cut -f1) CSV"
	"$pgload" create --url "$url" --table csv_t --pk
	cols="id, first_name, last_name, city, email, score, created_at, attrs"
	cat >"$work/load.pgl" <<-EOF
		LOAD CSV
		     FROM '$csv'
		          HAVING FIELDS ($cols)
		     INTO postgresql://postgres@127.0.0.1:$port/bench?tablename=csv_t
		          TARGET COLUMNS ($cols)
		     WITH skip header = 1,
		          fields optionally enclosed by '"',
		          fields escaped by double-quote,
		          fields terminated by ',',
		          workers = 2, concurrency = 1;
	EOF
	IFS=';' read -r -a weir_cfgs <<<"$csv_weir"
	loaders=()
	for ((i = 0; i < ${#weir_cfgs[@]}; i++)); do loaders+=("weir:$i"); done
	loaders+=(psql)
	[ "$have_pgloader" -eq 0 ] || loaders+=(pgloader)
	n=${#loaders[@]}
	for ((r = 1; r <= runs; r++)); do
		# Rotate the order every run, so no loader always goes first.
		for ((k = 0; k < n; k++)); do
			l=${loaders[$(((k + r - 1) % n))]}
			sql "TRUNCATE csv_t"
			log="$logs/csv-${l/:/}-r$r.log"
			case "$l" in
			weir:*)
				cfg=${weir_cfgs[${l#weir:}]}
				# shellcheck disable=SC2086,SC2046
				timed "$log" "$pgload" csv --url "$url" --table csv_t --file "$csv" $cfg $(prof "csv-weir${l#weir:}-r$r")
				name=weir config=$cfg
				;;
			psql)
				timed "$log" "${psql_cmd[@]}" -d bench -c "\\copy csv_t ($cols) FROM '$csv' WITH (FORMAT csv, HEADER true)"
				name=psql config='\copy (FORMAT csv)'
				;;
			pgloader)
				timed "$log" pgloader --root-dir "$work/pgloader" "$work/load.pgl"
				name=pgloader config="workers = 2, concurrency = 1"
				;;
			esac
			got=$(sql "SELECT count(*) FROM csv_t")
			if [ "$got" != "$csv_rows" ]; then
				say "run.sh: $name left $got rows in csv_t, want $csv_rows (log: $log)"
				exit 1
			fi
			say "   run $r $name: ${secs}s, $got rows verified, client CPU ${cpu}s, server CPU ${srv}s"
			"$pgload" record --out "$results" --bench csv --loader "$name" --config "$config" --run "$r" \
				--rows "$csv_rows" --seconds "$secs" --client-cpu "$cpu" --server-cpu "$srv" --rss-kb "$rss"
		done
	done
	sql "DROP TABLE csv_t"
	rm -f "$csv"
fi

# --- 3 and 4. weir migrate ------------------------------------------------------

# migrate BENCH TARGET CONFIG USERS RUN: one weir migrate, recorded.
migrate() {
	local bench=$1 target=$2 config=$3 n=$4 r=$5 to db=""
	local log="$logs/$bench-$target-$(echo "${config:-default}" | tr -c 'a-z0-9\n' '_')-$n-r$r.log"
	if [ "$target" = postgres ]; then
		to=$url
	else
		db="$work/migrate.db"
		rm -f "$db" "$db-wal" "$db-shm"
		to="sqlite:$db"
	fi
	# shellcheck disable=SC2086
	timed "$log" "$weir" migrate --to "$to" --users "$n" --blob-size "$blob_size" --progress off --truncate $config
	[ -z "$db" ] || rm -f "$db" "$db-wal" "$db-shm"
	# "loaded N users as M rows in 12.34s: ..." is the pipeline's own time,
	# without the schema check before and the recount after.
	local line
	line=$(grep -m1 '^loaded ' "$log") || { say "no result line in $log"; return 1; }
	grep -q '^verified: ' "$log" || { say "weir migrate did not verify its counts (log: $log)"; return 1; }
	local lu lrows lsecs
	read -r lu lrows lsecs < <(echo "$line" | sed -E 's/^loaded ([0-9]+) users as ([0-9]+) rows in ([0-9.]+)s.*/\1 \2 \3/')
	[ "$lu" = "$n" ] || { say "weir migrate loaded $lu users, want $n (log: $log)"; return 1; }
	say "   $bench $target ${config:-defaults} $n users run $r: $line; peak RSS ${rss} KiB"
	"$pgload" record --out "$results" --bench "$bench" --loader weir-migrate --target "$target" --config "$config" \
		--run "$r" --users "$n" --rows "$lrows" --seconds "$lsecs" --rss-kb "$rss" --client-cpu "$cpu" \
		$([ "$target" = postgres ] && echo --server-cpu "$srv")
}

if [ "$users" -gt 0 ]; then
	best=""
	if [ "$sweep_users" -gt 0 ]; then
		say "== 3a. config sweep: weir migrate, $sweep_users users into PostgreSQL, one run each"
		IFS=';' read -r -a sweep_cfgs <<<"$sweep"
		for c in "${sweep_cfgs[@]}"; do
			[ "$c" = default ] && c=""
			migrate sweep postgres "$c" "$sweep_users" 1
		done
		best=$("$pgload" best --in "$results" --bench sweep)
		say "   best in the sweep: ${best:-defaults}"
	fi
	say "== 3. weir migrate: $users users ($blob_size-byte blobs), $runs runs"
	for ((r = 1; r <= runs; r++)); do
		migrate migrate postgres "" "$users" "$r"
		[ -z "$best" ] || migrate migrate postgres "$best" "$users" "$r"
		migrate migrate sqlite "" "$users" "$r"
	done
	if [ "$flat_users" -gt 0 ]; then
		say "== 4. flat memory: weir migrate, $flat_users users into SQLite, $flat_runs run(s)"
		for ((r = 1; r <= flat_runs; r++)); do
			migrate flat sqlite "" "$flat_users" "$r"
		done
	fi
fi

# --- 5. weir copy --------------------------------------------------------------

# copycmd BENCH LOADER CONFIG WANT CHECK CMD...: one whole command, timed,
# its rows counted afterwards with CHECK (a shell command printing a count).
copycmd() {
	local bench=$1 name=$2 config=$3 want=$4 check=$5 r=$6
	shift 6
	local log="$logs/$bench-$(echo "$name $config" | tr -c 'a-z0-9\n' '_')-r$r.log"
	timed "$log" "$@"
	local got
	got=$(eval "$check")
	if [ "$got" != "$want" ]; then
		say "run.sh: $name $config left $got rows, want $want (log: $log)"
		exit 1
	fi
	say "   run $r $bench $name $config: ${secs}s, $got rows verified, client CPU ${cpu}s, server CPU ${srv}s"
	"$pgload" record --out "$results" --bench "$bench" --loader "$name" --config "$config" --run "$r" \
		--rows "$want" --seconds "$secs" --client-cpu "$cpu" --server-cpu "$srv" --rss-kb "$rss"
}

if [ "$copycmd_rows" -gt 0 ]; then
	say "== 5. weir copy: $copycmd_rows rows, $runs runs"
	ccsv="$work/people.csv"
	cjsonl="$work/people.jsonl"
	"$pgload" gen --file "$ccsv" --rows "$copycmd_rows"
	"$pgload" gen --file "$cjsonl" --rows "$copycmd_rows"
	sdb="$work/people.db"
	# The tables weir copy creates (types inferred from the file) are the
	# ones psql and sqlite3 load into: same shape, no keys, no indexes.
	"$weir" copy "$ccsv" "$url&table=people" --progress off --if-exists replace >"$logs/copycmd-setup.log" 2>&1
	"$weir" copy "$ccsv" "sqlite:$sdb?table=people" --progress off --if-exists replace >>"$logs/copycmd-setup.log" 2>&1
	sqlite3 "$sdb" ".schema people" >"$work/people.sql"
	cols="id, first_name, last_name, city, email, score, created_at, attrs"
	pgcount="sql 'SELECT count(*) FROM people'"
	sqcount="sqlite3 '$sdb' 'SELECT count(*) FROM people'"
	cmds=(weir1 psql weir2 weirsqlite sqlite3 weirjsonl)
	n=${#cmds[@]}
	for ((r = 1; r <= runs; r++)); do
		for ((k = 0; k < n; k++)); do
			c=${cmds[$(((k + r - 1) % n))]}
			case "$c" in
			weir1 | weir2)
				lc=${c#weir}
				copycmd copycmd-pg "weir copy" "--load-concurrency $lc" "$copycmd_rows" "$pgcount" "$r" \
					"$weir" copy "$ccsv" "$url&table=people" --progress off --if-exists replace --load-concurrency "$lc"
				;;
			psql)
				sql "TRUNCATE people" >/dev/null
				copycmd copycmd-pg psql '\copy (FORMAT csv), 1 connection' "$copycmd_rows" "$pgcount" "$r" \
					"${psql_cmd[@]}" -d bench -c "\\copy people ($cols) FROM '$ccsv' WITH (FORMAT csv, HEADER true)"
				;;
			weirsqlite)
				rm -f "$sdb" "$sdb-wal" "$sdb-shm"
				copycmd copycmd-sqlite "weir copy" "" "$copycmd_rows" "$sqcount" "$r" \
					"$weir" copy "$ccsv" "sqlite:$sdb?table=people" --progress off
				;;
			sqlite3)
				rm -f "$sdb" "$sdb-wal" "$sdb-shm"
				sqlite3 "$sdb" <"$work/people.sql"
				copycmd copycmd-sqlite sqlite3 ".import --csv --skip 1" "$copycmd_rows" "$sqcount" "$r" \
					sqlite3 -cmd "PRAGMA journal_mode=WAL" -cmd "PRAGMA synchronous=NORMAL" "$sdb" ".import --csv --skip 1 $ccsv people"
				;;
			weirjsonl)
				copycmd copycmd-jsonl "weir copy" "--load-concurrency 2" "$copycmd_rows" "sql 'SELECT count(*) FROM people_json'" "$r" \
					"$weir" copy "$cjsonl" "$url&table=people_json" --progress off --if-exists replace --load-concurrency 2
				;;
			esac
		done
	done
	sql "DROP TABLE people; DROP TABLE IF EXISTS people_json" >/dev/null
	rm -f "$ccsv" "$cjsonl" "$sdb" "$sdb-wal" "$sdb-shm"
fi

# --- report -------------------------------------------------------------------

echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$machine"
{
	echo "## PostgreSQL loading: weir vs the alternatives"
	echo
	cat "$machine"
	echo
	for n in "${notes[@]}"; do echo "**Note:** $n"; echo; done
	"$pgload" report --in "$results"
} >"$out/report.md"
cat "$out/report.md"
say "report: $out/report.md; raw results: $results; logs: $logs"
