#!/usr/bin/env bash
# git: a temporary repository with ~300 generated files committed in a few
# commits, `git log -p`, `git gc`, `git fsck`. Dates and identities are fixed,
# so commit ids are the same in both runs.
source "$(dirname "$0")/common.sh"
need git md5sum

workload() {
    local dir=$1
    export HOME=$dir GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
    export GIT_AUTHOR_NAME=sable GIT_AUTHOR_EMAIL=sable@example.invalid
    export GIT_COMMITTER_NAME=sable GIT_COMMITTER_EMAIL=sable@example.invalid
    export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
    cd "$dir"
    git init -q -b main repo
    cd repo
    for c in 1 2 3 4; do
        for ((i = 0; i < 300; i += c)); do
            mkdir -p "d$((i % 10))"
            {
                echo "file $i commit $c"
                for ((k = 0; k < i % 40 + c; k++)); do
                    echo "line $k of file $i: $((i * k * c % 9973))"
                done
            } >"d$((i % 10))/f$i.txt"
        done
        git add -A
        git commit -q -m "commit $c"
    done
    git rm -q -r d3
    git commit -q -m "remove d3"
    git log -p | md5sum
    git rev-parse HEAD
    git gc -q --aggressive
    git fsck --strict --no-progress | md5sum
    git log --stat | md5sum
    git count-objects -v | grep -E '^(count|in-pack|packs)'
}

compare_runs
