#!/usr/bin/env python3
"""tests/fuzz/gen_corpus.py - writes the seed corpus of fuzz_calls.

    tests/fuzz/gen_corpus.py            # rewrites tests/fuzz/corpus/

Each seed is a short program in fuzz_calls.c's input language, exercising one
operation (or a family of them) deliberately; a few are random mixes. The
encoders below mirror the decoders in fuzz_calls.c (decode_size,
decode_align, the op_* functions); keep them in step when those change.
Output is deterministic.
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

(MALLOC, CALLOC, REALLOC, REALLOCARRAY, FREE, FREE_SIZED, FREE_ALIGNED_SIZED,
 POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN, VALLOC, PVALLOC, USABLE, TRIM,
 CHECK_OVERLAP, VERIFY_ALL, INVALID, REALLOC_ZERO, BURST_ALLOC, BURST_FREE,
 MEMALIGN_ODD, HUGE_ALIGN) = range(22)

KiB, MiB = 1 << 10, 1 << 20
NCLASSES = 8 + 4 * 14


def u16(v):
    return list(struct.pack("<H", v & 0xFFFF))


def u32(v):
    return list(struct.pack("<I", v & 0xFFFFFFFF))


# ---- decode_size encoders ----

def zero():
    return [0]


def tiny(n):            # 1..64
    assert 1 <= n <= 64
    return [8, n - 1]


def cls(c, delta):      # class c, -1 / 0 / +1
    assert 0 <= c < NCLASSES and delta in (-1, 0, 1)
    b = c if c < 36 else next(x for x in range(192, 256) if x % NCLASSES == c)
    return [80, b, delta + 1]


def small(n):           # 1..16 KiB
    assert 1 <= n <= 16 * KiB
    return [150] + u16(n - 1)


def _log_uniform(base_min, n, steps):
    """(selector byte, value) for base << b + v % (base + 1), b < steps."""
    for b in range(steps):
        base = base_min << b
        if base <= n <= 2 * base:
            return [b] + u32(n - base)
    raise ValueError(n)


def large(n):           # 16 KiB .. 2 MiB
    return [200] + _log_uniform(16 * KiB, n, 7)


def huge(n):            # 2 MiB .. 64 MiB (selector bytes 0..2 up to 16 MiB)
    return [225] + _log_uniform(2 * MiB, n, 5)


def pages(k, delta):    # k * 4096 + delta, k <= 4096
    return [235] + u16(k - 1) + [12, delta + 1]


def align(lg):          # 2^lg, lg 0..26
    assert 0 <= lg <= 26
    if lg <= 12:
        return [lg]
    return [next(v for v in range(200, 256) if v % 27 == lg)]


# ---- ops ----

def op(kind, slot, *args):
    out = [kind, slot]
    for a in args:
        out += a if isinstance(a, list) else [a]
    return out


def frees(slots, kind=FREE):
    out = []
    for s in slots:
        out += op(kind, s)
    return out


def random_size(r):
    k = r.randrange(100)
    if k < 5:
        return zero()
    if k < 35:
        return tiny(r.randint(1, 64))
    if k < 65:
        return cls(r.randrange(NCLASSES), r.choice((-1, 0, 1)))
    if k < 85:
        return small(r.randint(1, 16 * KiB))
    if k < 95:
        return large(r.randint(16 * KiB, 2 * MiB))
    return huge(r.randint(2 * MiB, 8 * MiB))


def random_op(r):
    s = r.randrange(256)
    k = r.choice((MALLOC, MALLOC, MALLOC, CALLOC, REALLOC, REALLOC, REALLOCARRAY, FREE, FREE,
                  FREE_SIZED, FREE_ALIGNED_SIZED, POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN,
                  VALLOC, PVALLOC, USABLE, TRIM, CHECK_OVERLAP, VERIFY_ALL, REALLOC_ZERO,
                  BURST_ALLOC, BURST_FREE, MEMALIGN_ODD, HUGE_ALIGN))
    if k in (MALLOC, VALLOC, PVALLOC):
        return op(k, s, random_size(r))
    if k == CALLOC:
        return op(k, s, random_size(r), [0, 1, 2, 3][r.randrange(4)])
    if k in (REALLOC, REALLOCARRAY):
        # mode byte: 0 absolute size, 1 grow, 2 shrink (by a u16), 3 double, 4 halve
        mode = r.randrange(5)
        if mode == 0:
            out = op(k, s, 0, random_size(r))
        elif mode in (1, 2):
            out = op(k, s, mode, u16(r.randrange(65536)))
        else:
            out = op(k, s, mode)
        return out + ([r.randrange(256)] if k == REALLOCARRAY else [])
    if k in (POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN):
        return op(k, s, align(r.choice((0, 3, 4, 5, 6, 7, 8, 12, 13, 16, 21, 23))), random_size(r))
    if k == TRIM:
        return op(k, s, 1)
    if k == REALLOC_ZERO:
        return op(k, s, r.randrange(2))
    if k == BURST_ALLOC:
        return op(k, s, r.randrange(64), tiny(r.randint(1, 64)))
    if k == BURST_FREE:
        return op(k, s, r.randrange(128), r.randrange(4), r.randrange(3))
    if k == MEMALIGN_ODD:
        return op(k, s, [1], u16(r.randint(1, 9000)), random_size(r))
    if k == HUGE_ALIGN:
        return op(k, s, r.randint(0, 43 - 27), tiny(r.randint(1, 64)), r.randrange(3))
    return op(k, s)


def seeds():
    r = random.Random(20240601)
    S = {}

    p = []
    p += op(MALLOC, 0, zero()) + op(MALLOC, 1, zero())
    for n in (1, 7, 15, 16, 17, 31, 33, 64):
        p += op(MALLOC, 2 + n % 60, tiny(n))
    S["malloc_zero_tiny"] = p + op(CHECK_OVERLAP, 0) + frees(range(64))

    p = []
    for c in range(36):
        for d in (-1, 0, 1):
            p += op(MALLOC, (c * 3 + d + 1) % 256, cls(c, d))
    S["malloc_small_class_edges"] = p + op(CHECK_OVERLAP, 0) + op(VERIFY_ALL, 0)

    p = []
    for i, c in enumerate(range(36, NCLASSES)):
        p += op(MALLOC, i, cls(c, [-1, 0, 1][i % 3]))
    p += op(CHECK_OVERLAP, 0) + frees(range(0, 20, 2), FREE_SIZED) + frees(range(1, 20, 2))
    S["malloc_large_class_edges"] = p

    p = []
    for i, n in enumerate((16 * KiB + 1, 20 * KiB, 100 * KiB, 1 * MiB - 1, 2 * MiB)):
        p += op(MALLOC, i, large(n))
    p += op(USABLE, 3) + frees(range(5), FREE_SIZED)
    S["malloc_large"] = p

    p = op(MALLOC, 0, huge(2 * MiB + 1)) + op(MALLOC, 1, huge(5 * MiB)) + op(MALLOC, 2, pages(3000, 1))
    p += op(CHECK_OVERLAP, 0) + frees((0, 1, 2), FREE_ALIGNED_SIZED)
    S["malloc_huge"] = p

    p = []
    for mode in range(6):
        p += op(CALLOC, mode, small(1000 + mode * 100), mode, [3, 1] if mode >= 4 else [])
    p += op(CALLOC, 10, large(300 * KiB), 0) + op(CALLOC, 11, huge(3 * MiB), 1)
    p += op(FREE, 0) + op(CALLOC, 0, small(1000), 5, 2, 0)   # 250 x 4, a freed dirty block
    S["calloc_modes"] = p + op(VERIFY_ALL, 0) + frees(range(12))

    p = op(MALLOC, 5, tiny(24))
    p += op(REALLOC, 5, 1) + u16(100)          # grow by a little
    p += op(REALLOC, 5, 3) * 6                 # double, six times
    p += op(REALLOC, 5, 0, large(1 * MiB))
    p += op(REALLOC, 5, 0, huge(4 * MiB)) + op(REALLOC, 5, 1) + u16(60000)
    p += op(REALLOC, 5, 2) + u16(30000) + op(REALLOC, 5, 4) * 8
    S["realloc_grow_shrink"] = p + op(FREE, 5)

    p = op(MALLOC, 1, large(40 * KiB)) + op(MALLOC, 2, large(40 * KiB))
    p += op(FREE, 2) + op(REALLOC, 1, 1) + u16(20 * KiB)   # grow into the freed neighbour
    p += op(REALLOC, 1, 2) + u16(30 * KiB)                 # shrink in place
    S["realloc_large_in_place"] = p + frees((1, 2))

    p = op(REALLOC, 9, 0, small(200)) + op(REALLOC_ZERO, 9, 0) + op(REALLOC_ZERO, 9, 1)
    p += op(REALLOC_ZERO, 8, 0) + op(REALLOC_ZERO, 7, 1) + op(MALLOC, 6, huge(3 * MiB))
    p += op(REALLOC_ZERO, 6, 0)
    S["realloc_null_and_zero"] = p

    p = op(REALLOCARRAY, 3, 0, small(4000), 7) + op(REALLOCARRAY, 3, 3, 1)
    p += op(REALLOCARRAY, 3, 0, large(64 * KiB), 15) + op(REALLOCARRAY, 4, 0, tiny(48), 2)
    S["reallocarray"] = p + frees((3, 4))

    for name, kind in (("posix_memalign", POSIX_MEMALIGN), ("aligned_alloc", ALIGNED_ALLOC),
                       ("memalign", MEMALIGN)):
        p = []
        for lg in range(27):
            n = [tiny(1), small(3000), large(100 * KiB), huge(3 * MiB)][lg % 4]
            if lg >= 22 and lg % 4 == 3:
                n = small(100)
            p += op(kind, lg, align(lg), n)
            if lg % 3 == 2:
                p += op(FREE, lg - 1)
        S[name + "_every_alignment"] = p + op(CHECK_OVERLAP, 0) + frees(range(27), FREE_ALIGNED_SIZED)

    p = []
    for i, a in enumerate((3, 24, 48, 100, 1000, 4095, 4097, 5000, 100000)):
        # 1 + u16 below 64 KiB, else 1 + u32 % 64 MiB
        sel = [1] + u16(a - 1) if a <= 65536 else [0] + u32(a - 1)
        p += op(MEMALIGN_ODD, i, sel, small(200))
    S["memalign_odd_alignment"] = p + frees(range(9))

    p = []
    for i, n in enumerate((zero(), tiny(1), small(4095), small(4096), small(4097),
                           large(100 * KiB), huge(3 * MiB))):
        p += op(VALLOC, i, n) + op(PVALLOC, 20 + i, n)
    S["valloc_pvalloc"] = p + op(CHECK_OVERLAP, 0) + frees(list(range(7)) + list(range(20, 27)))

    p = []
    for i in range(40):
        p += op(MALLOC, i, large(20 * KiB + i * 4096))
    p += frees(range(0, 40, 2)) + op(TRIM, 0, 1) + op(USABLE, 1) + op(TRIM, 0, 0) + u32(12345)
    p += op(VERIFY_ALL, 0) + op(CHECK_OVERLAP, 0)
    S["trim_with_live_blocks"] = p

    # op_invalid, one of each kind with its arguments spelled out
    p = op(INVALID, 0, 0, [0], tiny(8))             # posix_memalign(0, 8)
    p += op(INVALID, 0, 0, [1, 2], small(100))      # posix_memalign(4, 100)
    p += op(INVALID, 0, 1, [0, 1], tiny(8))         # aligned_alloc(0, 8)
    p += op(INVALID, 0, 1, [1], u32(50), [1], tiny(8))  # aligned_alloc(103, 8)
    p += op(INVALID, 0, 2, u32(5), tiny(8))         # memalign(2^63 + 6, 8)
    p += op(INVALID, 0, 3, [0, 5])                  # malloc(SIZE_MAX - 5)
    p += op(INVALID, 0, 3, [2, 0])                  # malloc(PTRDIFF_MAX)
    p += op(INVALID, 0, 4, [1, 0], [3], [1], [0], [0])  # calloc overflow
    p += op(INVALID, 0, 5, [2, 0], [3], [0])        # reallocarray(NULL, overflow)
    p += op(INVALID, 0, 6, [3, 1], u16(7), [0])     # realloc(NULL, 2^49 + 7)
    for which in range(3):                          # aligned, size above PTRDIFF_MAX
        p += op(INVALID, 0, 7, align(6), [0, 0], [which])
    p += op(INVALID, 0, 8, [4, 1])                  # valloc(SIZE_MAX - page)
    p += op(INVALID, 0, 9, [5], u32(0x1234))        # pvalloc(2^62 + ...)
    p += op(INVALID, 0, 10, u16(100), u16(200))     # free(NULL), free_sized(NULL, ...)
    p += op(INVALID, 0, 11)                         # sable_version
    S["invalid_each_kind"] = p
    # kind 5/6: decode_too_big (selector, argument), the count byte, and for
    # kind 5 the byte added to SIZE_MAX / count + 1
    p = op(MALLOC, 4, small(500)) + op(INVALID, 4, 5, 0, 3, 7, 1) + op(INVALID, 4, 6, 1, 0, 0)
    p += op(MALLOC, 5, huge(3 * MiB)) + op(INVALID, 5, 6, 2, 9, 0)
    p += op(INVALID, 5, 6, 3, 1, u16(7), 0)
    S["invalid_realloc_keeps_block"] = p + frees((4, 5))

    p = []
    for rnd in range(6):
        p += op(BURST_ALLOC, rnd * 40, 63, tiny(16 + rnd)) + op(BURST_FREE, rnd * 40, 127, 0, rnd % 3)
    p += op(BURST_ALLOC, 0, 63, cls(20, 0)) + op(BURST_ALLOC, 64, 63, cls(20, 0))
    p += op(BURST_ALLOC, 128, 63, cls(20, 0)) + op(BURST_FREE, 0, 127, 1, 0)
    p += op(BURST_FREE, 1, 127, 1, 1)
    S["burst_refill_flush"] = p

    p = []
    for i, lg in enumerate((27, 28, 30, 33, 36, 40, 43)):
        p += op(HUGE_ALIGN, i, lg - 27, tiny(8), i % 3)
    S["huge_alignments"] = p

    # Random mixes: long well-formed programs for the mutator to start from.
    # (Alignments of 2^44 and above are left for the fuzzer to reach; seeds
    # stay below them so that a known finding does not stop corpus loading.)
    for k in range(6):
        p = []
        target = r.choice((200, 500, 1000, 2000))
        while len(p) < target:
            p += random_op(r)
        S["mix_%d" % k] = p
    S.update(big_seeds())
    return S


# ---- large (16 KiB .. 2 MiB) and huge (> 2 MiB) blocks ----
#
# Seeds named big_* exercise the large-run and huge-block paths: sizes from
# 16 KiB to 64 MiB, big alignments, realloc across the 2 MiB boundary in both
# directions, calloc of big sizes over memory that held another block's
# pattern, and frees in several orders. fuzz_calls keeps at most 256 MiB
# live (it skips an allocation that would exceed it), so each seed frees as
# it goes.

def big_size(n):
    """decode_size bytes for n in 16 KiB .. 64 MiB."""
    return large(n) if n <= 2 * MiB else huge(n)


# Realloc modes (op_realloc): 0 absolute, 1 grow by 1 + u16, 2 shrink by
# 1 + u16, 3 double + 1, 4 halve + 1.
def realloc_to(slot, n):
    return op(REALLOC, slot, 0, big_size(n))


def realloc_grow(slot, by):
    assert 1 <= by <= 65536
    return op(REALLOC, slot, 1) + u16(by - 1)


def realloc_shrink(slot, by):
    assert 1 <= by <= 65536
    return op(REALLOC, slot, 2) + u16(by - 1)


BIG_SIZES = (16 * KiB + 1, 20 * KiB, 64 * KiB, 256 * KiB, 256 * KiB + 16, 300 * KiB,
             1 * MiB, 1536 * KiB, 2 * MiB - 4096, 2 * MiB, 2 * MiB + 1, 3 * MiB, 5 * MiB,
             8 * MiB, 16 * MiB, 24 * MiB + 12345, 33 * MiB, 40 * MiB, 64 * MiB)


def big_seeds():
    r = random.Random(20261201)
    S = {}

    # Every size once, freed in reverse order; again, freed in allocation
    # order; again, freed from the middle outwards with every free function.
    p = []
    for i, n in enumerate(BIG_SIZES[:15]):
        p += op(MALLOC, i, big_size(n))
    p += op(CHECK_OVERLAP, 0) + op(VERIFY_ALL, 0) + frees(reversed(range(15)))
    for i, n in enumerate(BIG_SIZES[:15]):
        p += op(MALLOC, 20 + i, big_size(n))
    p += op(TRIM, 0, 1) + frees(range(20, 35), FREE_SIZED)
    order = [7, 8, 6, 9, 5, 10, 4, 11, 3, 12, 2, 13, 1, 14, 0]
    for i, n in enumerate(BIG_SIZES[:15]):
        p += op(MALLOC, 40 + i, big_size(n))
    for k, i in enumerate(order):
        p += op((FREE, FREE_SIZED, FREE_ALIGNED_SIZED)[k % 3], 40 + i)
    S["big_sizes_free_orders"] = p

    # The largest sizes one or two at a time (the live cap): 16 .. 64 MiB,
    # each freed and allocated again at once (a freed mapping or run of the
    # same size is what the next request is likely to get).
    p = []
    for i, n in enumerate(BIG_SIZES[14:]):
        p += op(MALLOC, 60, big_size(n)) + op(MALLOC, 61, big_size(n - 4096))
        p += op(FREE, 60) + op(MALLOC, 60, big_size(n)) + op(USABLE, 60)
        p += op(FREE_SIZED, 61) + op(FREE, 60)
    p += op(MALLOC, 62, big_size(64 * MiB)) + op(TRIM, 0, 1) + op(FREE, 62)
    S["big_huge_to_64m"] = p

    # Aligned allocation with big alignments: 16 KiB .. 64 MiB, on large and
    # huge sizes, through the three aligned functions, freed in a shuffled
    # order; then valloc and pvalloc of big sizes.
    p = []
    sizes = (20 * KiB, 300 * KiB, 1536 * KiB, 2 * MiB, 3 * MiB, 9 * MiB)
    slot = 0
    for lg in range(14, 27):
        for j, kind in enumerate((POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN)):
            n = sizes[(lg + j) % len(sizes)]
            p += op(kind, slot, align(lg), big_size(n))
            slot += 1
    p += op(CHECK_OVERLAP, 0)
    live = list(range(slot))
    r.shuffle(live)
    for k, s in enumerate(live):
        p += op((FREE, FREE_ALIGNED_SIZED)[k % 2], s)
    for i, n in enumerate((16 * KiB, 1 * MiB + 1, 2 * MiB + 4096, 6 * MiB)):
        p += op(VALLOC, 100 + i, big_size(n)) + op(PVALLOC, 110 + i, big_size(n))
    p += op(CHECK_OVERLAP, 0) + frees(list(range(100, 104)) + list(range(110, 114)))
    p += op(MEMALIGN, 120, align(26), big_size(40 * MiB)) + op(FREE, 120)
    p += op(MEMALIGN_ODD, 121, [1], u16(48 * 1024 - 1), big_size(3 * MiB)) + op(FREE, 121)
    S["big_aligned"] = p

    # realloc across the large/huge boundary in small steps both ways, and
    # through every big size up and down again (contents are checked on
    # each step over the preserved prefix).
    p = op(MALLOC, 3, big_size(2 * MiB - 40 * KiB))
    for _ in range(4):
        p += realloc_grow(3, 24 * KiB) + realloc_grow(3, 24 * KiB)   # past 2 MiB
        p += realloc_shrink(3, 30 * KiB) + realloc_shrink(3, 30 * KiB)
        p += realloc_grow(3, 12 * KiB)
    p += realloc_to(3, 2 * MiB) + realloc_to(3, 2 * MiB + 1) + realloc_to(3, 2 * MiB)
    for n in (20 * KiB, 300 * KiB, 1536 * KiB, 5 * MiB, 40 * MiB, 5 * MiB, 1536 * KiB,
              300 * KiB, 20 * KiB):
        p += realloc_to(3, n)
    p += op(FREE, 3)
    # doubling from 20 KiB to 64 MiB (the cap), halving back down
    p += op(MALLOC, 4, big_size(20 * KiB)) + op(REALLOC, 4, 3) * 12 + op(REALLOC, 4, 4) * 12
    p += op(FREE, 4)
    # a huge block that grows while another huge block sits after it, and
    # one that shrinks and grows back
    p += op(MALLOC, 5, big_size(3 * MiB)) + op(MALLOC, 6, big_size(3 * MiB))
    p += realloc_to(5, 12 * MiB) + realloc_to(6, 7 * MiB) + realloc_shrink(6, 65536)
    p += realloc_grow(6, 65536) + realloc_to(6, 2 * MiB - 4096) + realloc_to(5, 64 * KiB)
    p += op(CHECK_OVERLAP, 0) + frees((6, 5))
    # a large run that grows into its freed neighbour and past the chunk's
    # room for it
    p += op(MALLOC, 7, big_size(512 * KiB)) + op(MALLOC, 8, big_size(512 * KiB))
    p += op(FREE, 8) + realloc_grow(7, 65536) + realloc_to(7, 1536 * KiB)
    p += realloc_to(7, 3 * MiB) + realloc_shrink(7, 65536) + op(FREE, 7)
    # reallocarray of big sizes
    p += op(REALLOCARRAY, 9, 0, big_size(700 * KiB), 7) + op(REALLOCARRAY, 9, 0, big_size(9 * MiB), 15)
    p += op(REALLOCARRAY, 9, 4, 3) + op(FREE, 9)
    S["big_realloc_boundary"] = p

    # calloc of big sizes, every decomposition of count x size, fresh and
    # over memory that just held another block's pattern (same size freed
    # right before): zeroes are checked over the whole block.
    p = []
    for i, n in enumerate((20 * KiB, 300 * KiB, 1536 * KiB, 2 * MiB, 5 * MiB, 40 * MiB)):
        s = 10 + i
        p += op(MALLOC, s, big_size(n)) + op(FREE, s)
        p += op(CALLOC, s, big_size(n), 0) + op(FREE, s)
        p += op(MALLOC, s, big_size(n)) + op(FREE, s)
        p += op(CALLOC, s, big_size(n), 4, 9, 1) + op(FREE, s)      # 4096-byte elements
        p += op(MALLOC, s, big_size(n)) + op(FREE, s)
        p += op(CALLOC, s, big_size(n), 1)                          # n x 1
        p += op(REALLOC, s, 2) + u16(4095) + op(FREE, s)
    p += op(CALLOC, 30, big_size(64 * MiB), 0) + op(FREE, 30)
    S["big_calloc_reuse"] = p

    # Random mixes of big blocks only: malloc, calloc, aligned, realloc in
    # every mode, frees of every kind, trims.
    def rand_big():
        k = r.randrange(10)
        if k < 5:
            return big_size(r.randint(16 * KiB, 2 * MiB))
        if k < 9:
            return big_size(r.randint(2 * MiB, 16 * MiB))
        return big_size(r.randint(16 * MiB, 64 * MiB))

    for k in range(4):
        p = []
        while len(p) < 1500:
            s = r.randrange(24)
            c = r.randrange(12)
            if c < 3:
                p += op(MALLOC, s, rand_big())
            elif c == 3:
                p += op(CALLOC, s, rand_big(), r.randrange(2))
            elif c == 4:
                p += op(r.choice((POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN)), s,
                        align(r.randint(12, 26)), rand_big())
            elif c == 5:
                p += op(REALLOC, s, 0, rand_big())
            elif c == 6:
                mode = r.randrange(1, 5)
                p += op(REALLOC, s, mode) + (u16(r.randrange(65536)) if mode < 3 else [])
            elif c < 10:
                p += op(r.choice((FREE, FREE_SIZED, FREE_ALIGNED_SIZED)), s)
            elif c == 10:
                p += op(TRIM, 0, 1)
            else:
                p += op(r.choice((CHECK_OVERLAP, VERIFY_ALL, USABLE)), s)
        S["big_mix_%d" % k] = p
    return S


def main():
    os.makedirs(OUT, exist_ok=True)
    # Seeds named regress-* are inputs of past findings, kept by hand.
    for f in os.listdir(OUT):
        if not f.startswith("regress-"):
            os.unlink(os.path.join(OUT, f))
    for name, data in sorted(seeds().items()):
        assert len(data) <= 4096, name
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes(data))
    print("gen_corpus.py: %d seeds in %s" % (len(os.listdir(OUT)), os.path.relpath(OUT)))


if __name__ == "__main__":
    main()
