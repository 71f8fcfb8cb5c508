#!/usr/bin/env bash
# gcc (driver, cc1, as, collect2/ld) compiling a generated C file of 3000 small
# functions; the object's symbol table and the program's output must match.
source "$(dirname "$0")/common.sh"
need gcc nm

workload() {
    local dir=$1 n=3000
    {
        echo '#include <stdio.h>'
        echo 'struct pair { long a, b; };'
        for ((i = 0; i < n; i++)); do
            echo "static struct pair table_$i = { $i, $((i * 7 % 101)) };"
            echo "long f_$i(long x) { long r = x * $((i % 97 + 1)) + table_$i.a;"
            echo "  for (int k = 0; k < $((i % 5)); k++) r ^= r >> $((i % 13 + 1));"
            echo "  return r + table_$i.b; }"
        done
        echo 'int main(void) { long acc = 0;'
        for ((i = 0; i < n; i++)); do
            echo "  acc = f_$i(acc) % 1000000007;"
        done
        echo '  printf("%ld\n", acc); return 0; }'
    } >"$dir/gen.c"
    gcc -O1 -c "$dir/gen.c" -o "$dir/gen.o"
    nm "$dir/gen.o" | md5sum
    nm "$dir/gen.o" | wc -l
    gcc "$dir/gen.o" -o "$dir/gen"
    "$dir/gen"
}

compare_runs
