#!/usr/bin/env bash
# sqlite3: 100k-row insert with an index, then queries.
source "$(dirname "$0")/common.sh"
need sqlite3

workload() {
    sqlite3 "$1/test.db" <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, name TEXT, payload TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t (id, k, name, payload)
SELECT x, (x * 7919) % 100003, printf('row%08d', (x * 31337) % 1000003),
       substr('abcdefghijklmnopqrstuvwxyz0123456789', 1 + x % 30, 1 + x % 36) || x
FROM c;
CREATE INDEX t_k ON t (k);
CREATE INDEX t_name ON t (name);
SELECT count(*), sum(k), min(name), max(name) FROM t;
SELECT k % 10 AS bucket, count(*), sum(length(payload)) FROM t GROUP BY bucket ORDER BY bucket;
SELECT id, k, name FROM t WHERE k BETWEEN 5000 AND 5020 ORDER BY k;
SELECT count(*) FROM t WHERE name LIKE 'row0001%';
SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY name DESC LIMIT 25);
UPDATE t SET payload = payload || payload WHERE id % 7 = 0;
DELETE FROM t WHERE id % 11 = 0;
SELECT count(*), sum(length(payload)) FROM t;
SELECT a.id, b.id FROM t a JOIN t b ON a.k = b.id WHERE a.id < 40 ORDER BY a.id;
PRAGMA integrity_check;
SQL
    sqlite3 "$1/test.db" 'VACUUM; SELECT count(*) FROM t; PRAGMA integrity_check;'
}

compare_runs
