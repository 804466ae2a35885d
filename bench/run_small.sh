#!/usr/bin/env bash
# Every benchmark at its smallest size, one after the other (never two at once: the
# machine may be shared), each with the load average before and after it.
#
#   bench/run_small.sh [OUTPUT_FOLDER]
#
# PostgreSQL: BENCH_PG_BASE (default postgresql+psycopg://postgres@127.0.0.1:5432) and
# BENCH_PG_PREFIX (default bench): the sized scripts make a schema of their own in the
# database PREFIX (which must exist); bench_backup and bench_upgrade create and drop
# databases PREFIX_backup and PREFIX_upgrade. Exits non-zero when a script fails.
set -u
cd "$(dirname "$0")/.."
OUT="${1:-bench-small}"
BASE="${BENCH_PG_BASE:-postgresql+psycopg://postgres@127.0.0.1:5432}"
PREFIX="${BENCH_PG_PREFIX:-bench}"
PG="$BASE/$PREFIX"
PY=.venv/bin/python
mkdir -p "$OUT"
failed=0

run() {
    local name="$1"; shift
    echo "== $name: $*"
    echo "load before: $(cat /proc/loadavg)"
    local start=$SECONDS
    if "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; then status=ok; else status="FAILED ($?)"; failed=1; fi
    echo "load after:  $(cat /proc/loadavg)   $((SECONDS - start)) s   $status"
}

run burst $PY bench/bench_burst.py --count 100 --threads 4 --pg "$PG"
run backup $PY bench/bench_backup.py --requests 0 --photos 2 --pg "$BASE/${PREFIX}_backup"
run downloads $PY bench/bench_downloads.py --requests 2000 --max-rows 500 --pg "$PG"
run email $PY bench/bench_email.py --count 50 --latency-ms 0
run first_load $PY bench/bench_first_load.py --no-lighthouse
run import $PY bench/bench_import.py --rows 1000
run nearby $PY bench/bench_nearby.py --sizes 1000 --runs 3 --pg "$PG"
run open311 $PY bench/bench_open311.py --sizes 5000 --runs 3 --pg "$PG"  # fills a page from 4,100
run open311_long_ids env BENCH_IDS=500 BENCH_RUNS=2 $PY bench/bench_open311_long_ids.py
run outbox_save $PY bench/bench_outbox_save.py --quick --saves 5
run photos $PY bench/bench_photos.py --runs 2
run push $PY bench/bench_push.py --count 50
run reads_http $PY bench/bench_reads_http.py --size 2000 --seconds 2 --runs 3 --schema bench_reads_small --pg "$PG"
run queue $PY bench/bench_queue.py --sizes 1000 --runs 3 --pg "$PG"
run scale $PY bench/bench_scale.py --sizes 1000 --pg-sizes 1000 --runs 3 --pg "$PG"
run submit $PY bench/bench_submit.py --count 30 --pg "$PG"
run served $PY bench/bench_served.py --requests 300 --seconds 3 --rounds 2
run served_pg $PY bench/bench_served.py --requests 300 --seconds 3 --rounds 2 --pg "$PG"
run upgrade $PY bench/bench_upgrade.py --rows 1000 --database-url "$BASE/${PREFIX}_upgrade"
run validation env BENCH_RUNS=2 BENCH_CALLS=200 $PY bench/bench_validation.py
exit $failed
