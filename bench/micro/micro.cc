// Google Benchmark registration of the C loops in loops.c. Items/s is
// operations per second, one operation as described in loops.h.
#include <benchmark/benchmark.h>

#include "loops.h"

namespace {

void run_loop(benchmark::State &state, micro_loop_fn fn, long inner, long ops_per_iter)
{
	const size_t size = static_cast<size_t>(state.range(0));
	for (auto _ : state)
		fn(size, inner);
	state.SetItemsProcessed(state.iterations() * inner * ops_per_iter);
}

void BM_malloc_free(benchmark::State &s) { run_loop(s, loop_malloc_free, 1000, 1); }
void BM_calloc_free(benchmark::State &s) { run_loop(s, loop_calloc_free, 1000, 1); }
// Items are single allocations (1000 per batch).
void BM_batch(benchmark::State &s) { run_loop(s, loop_batch, 1, 1000); }
void BM_realloc_growth(benchmark::State &s) { run_loop(s, loop_realloc_growth, 1000, 1); }
// Items are whole doubling sequences (16 B to the size, then free).
void BM_realloc_doubling(benchmark::State &s) { run_loop(s, loop_realloc_doubling, 10, 1); }
// Items are single reallocs (two per inner iteration).
void BM_realloc_same_class(benchmark::State &s) { run_loop(s, loop_realloc_same_class, 1000, 2); }
void BM_cross_thread(benchmark::State &s) { run_loop(s, loop_cross_thread, 100000, 1); }
void BM_large(benchmark::State &s) { run_loop(s, loop_large, 100, 1); }

} // namespace

BENCHMARK(BM_malloc_free)->RangeMultiplier(2)->Range(16, 4096);
BENCHMARK(BM_calloc_free)->RangeMultiplier(4)->Range(16, 4096);
BENCHMARK(BM_batch)->Arg(512);
BENCHMARK(BM_realloc_growth)->Arg(4096)->Arg(65536);
BENCHMARK(BM_realloc_doubling)->Arg(1 << 20);
BENCHMARK(BM_realloc_same_class)->Arg(48);
BENCHMARK(BM_cross_thread)->Arg(64)->UseRealTime();
BENCHMARK(BM_large)->RangeMultiplier(4)->Range(4096, 256 << 10);

BENCHMARK_MAIN();
