#!/usr/bin/env bash
# coreutils sort, through a pipeline of three sorts, under sable.
source "$(dirname "$0")/common.sh"
need seq sort md5sum

workload() {
    seq 1 200000 | sort -r | sort -n | md5sum
    seq 1 200000 | sort -r -S 64K -T "$1" | sort -n -S 64K -T "$1" | md5sum
    seq 1 50000 | awk '{ printf "%s %d\n", substr("qwertyuiopasdfghjklzxcvbnm", $1 % 26 + 1, 5), $1 * 7919 % 10007 }' \
        | sort -k2,2n -k1,1 | md5sum
}

compare_runs
