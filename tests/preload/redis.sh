#!/usr/bin/env bash
# redis-server under sable on a random free port of 127.0.0.1: redis-cli
# set/get checks whose replies must match a run without sable, then
# redis-benchmark; the server is shut down by PID and must exit cleanly.
source "$(dirname "$0")/common.sh"
need redis-server redis-cli redis-benchmark md5sum

PID=
cleanup_server() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -rf "$SCRATCH"
}
trap cleanup_server EXIT

# start_server DIR PRELOAD: sets PORT and PID, or fails.
start_server() {
    local dir=$1 preload=$2 try
    mkdir -p "$dir"
    for try in 1 2 3 4 5 6 7 8; do
        PORT=$((20000 + RANDOM % 40000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
            continue # something listens there already
        fi
        if [ "$preload" = 1 ]; then
            LD_PRELOAD=$SABLE_LIB SABLE_CONF=confirm_conf:true \
                redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
                --daemonize no --dir "$dir" --logfile "$dir/redis.log" \
                >"$dir/stdout" 2>"$dir/stderr" &
        else
            redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
                --daemonize no --dir "$dir" --logfile "$dir/redis.log" \
                >"$dir/stdout" 2>"$dir/stderr" &
        fi
        PID=$!
        for _ in $(seq 1 100); do
            if [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ]; then
                return 0
            fi
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        PID=
    done
    cat "$dir/stderr" "$dir/redis.log" 2>/dev/null | tail -20 >&2
    fail "redis-server did not start (preload=$preload)"
}

# The replies of this session are compared between the two runs.
session() {
    local cli=(redis-cli -p "$PORT")
    for ((i = 0; i < 5000; i++)); do
        printf 'SET key:%d value-%d-%0*d\n' "$i" "$i" $((i % 300)) 0
    done | "${cli[@]}" | sort | uniq -c
    for i in 0 1 77 4999; do "${cli[@]}" GET "key:$i"; done
    "${cli[@]}" DBSIZE
    for ((i = 0; i < 2000; i++)); do
        printf 'LPUSH list %d\nHSET hash f%d %d\nINCRBY counter %d\n' "$i" "$i" $((i * i)) "$i"
    done | "${cli[@]}" | tail -3
    "${cli[@]}" LRANGE list 0 9 | tr '\n' ' '
    echo
    "${cli[@]}" HGETALL hash | sort | md5sum # hash order is seeded per process
    "${cli[@]}" GET counter
    head -c 1048576 /dev/zero | tr '\0' 'z' >"$SCRATCH/big"
    "${cli[@]}" -x SET big <"$SCRATCH/big"
    "${cli[@]}" STRLEN big
    "${cli[@]}" GET big | head -c 1048576 | md5sum
    for ((i = 0; i < 5000; i += 2)); do printf 'DEL key:%d\n' "$i"; done | "${cli[@]}" | sort | uniq -c
    "${cli[@]}" DBSIZE
}

stop_server() {
    local status=0
    kill -TERM "$PID"
    wait "$PID" || status=$?
    PID=
    [ "$status" -eq 0 ] || fail "redis-server exited with status $status after SIGTERM"
}

start_server "$SCRATCH/plain" 0
session >"$SCRATCH/plain.out"
stop_server

start_server "$SCRATCH/sable" 1
grep -q libsable "/proc/$PID/maps" || fail "libsable.so is not mapped in redis-server"
session >"$SCRATCH/sable.out"
redis-benchmark -p "$PORT" -q -n 20000 -t set,get,lpush,lpop >"$SCRATCH/bench.out" 2>&1 ||
    fail "redis-benchmark failed: $(tail -3 "$SCRATCH/bench.out")"
tr '\r' '\n' <"$SCRATCH/bench.out" | grep ': [0-9.]* requests per second' >"$SCRATCH/bench.summary" || true
cat "$SCRATCH/bench.summary"
[ "$(wc -l <"$SCRATCH/bench.summary")" -eq 4 ] ||
    fail "redis-benchmark did not complete its four tests"
[ "$(redis-cli -p "$PORT" ping)" = PONG ] || fail "redis-server stopped answering after the benchmark"
redis-cli -p "$PORT" INFO memory >/dev/null || fail "INFO memory failed"
stop_server

if ! cmp -s "$SCRATCH/plain.out" "$SCRATCH/sable.out"; then
    diff "$SCRATCH/plain.out" "$SCRATCH/sable.out" | head -20 >&2
    fail "redis replies under sable differ from the plain run"
fi
check_sable_stderr "$SCRATCH/sable/stderr"
echo "ok: $(wc -l <"$SCRATCH/plain.out") lines of identical replies"
