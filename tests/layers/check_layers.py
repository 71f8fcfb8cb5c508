#!/usr/bin/env python3
"""Fails when a source file includes a header of a layer above its own.

The layers of sable, from the top (docs/design.md, "Layers"):

    preload/          exported symbols only
    src/inspect       the stats page and control socket: reads ctl
    src/ctl           control and stats: reads every layer below
    src/api           the malloc family's contract
    src/process       set-up, threads' lives, fork, the background thread
    src/tcache        per-thread stacks          src/uncached  no-cache path
    src/arena         everything shared between threads
    src/os            system calls and the machine's facts
    src/options  src/sizeclass  src/lib       leaves

A file may include headers of its own layer and of the layers it is allowed
to call (ALLOWED below); `include/sable.h` and system headers are free. The
map-word layout is decoded inside src/arena only: any other file that names
the MAP_* decoding macros fails too.

Usage: check_layers.py SOURCE_ROOT
"""
import os
import re
import sys

LEAVES = {"options", "sizeclass", "lib"}
BELOW_ARENA = {"os"} | LEAVES
ALLOWED = {
    "lib": set(),
    "sizeclass": set(),
    "os": {"lib"},
    "options": {"os", "lib"},
    "arena": BELOW_ARENA,
    "tcache": {"arena"} | BELOW_ARENA,
    "uncached": {"arena"} | BELOW_ARENA,
    "process": {"tcache", "uncached", "arena"} | BELOW_ARENA,
    "api": {"process", "tcache", "uncached", "arena"} | BELOW_ARENA,
    "ctl": {"process", "tcache", "uncached", "arena"} | BELOW_ARENA,
    "inspect": {"ctl", "process", "tcache", "uncached", "arena"} | BELOW_ARENA,
    "preload": {"api", "ctl", "inspect", "process", "tcache", "uncached", "arena"} | BELOW_ARENA,
}
# Generated headers and public ones, includable from anywhere.
FREE = {"sable.h", "sc_tables.h"}
MAP_DECODE = re.compile(r"\bMAP_(CLASS|KIND|BACK|DESC|KIND_MASK|BACK_MASK|WORD)\b|->map\[")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    parts = rel.split(os.sep)
    if parts[0] == "preload":
        return "preload"
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    return None


def check(root):
    problems = []
    seen = 0
    for top in ("src", "preload"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h", ".cc")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                layer = layer_of(rel)
                if layer is None:
                    problems.append(f"{rel}: not in a layer's folder")
                    continue
                if layer not in ALLOWED:
                    problems.append(f"{rel}: unknown layer '{layer}' (add it to the layer map)")
                    continue
                seen += 1
                text = open(path, encoding="utf-8").read()
                for inc in INCLUDE.findall(text):
                    if inc in FREE:
                        continue
                    if "/" not in inc:
                        problems.append(f"{rel}: include \"{inc}\" names no layer")
                        continue
                    target = inc.split("/")[0]
                    if target != layer and target not in ALLOWED[layer]:
                        problems.append(f"{rel}: layer '{layer}' includes \"{inc}\" of layer '{target}'")
                if layer != "arena" and MAP_DECODE.search(text):
                    problems.append(f"{rel}: decodes map words outside src/arena")
    return seen, problems


def self_test():
    """The check must fail on a tree that breaks each rule."""
    import tempfile
    cases = {
        "src/arena/x.c": '#include "tcache/tcache.h"\n',   # upward include
        "src/os/y.c": '#include "options/options.h"\n',    # os reads options
        "src/api/z.c": "int k = MAP_CLASS(w);\n",           # map words outside arena
        "src/tcache/w.c": '#include "ctl/stats.h"\n',       # below ctl calls ctl
        "src/newlayer/v.c": "\n",                           # a folder not in the map
    }
    for rel, text in cases.items():
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, os.path.dirname(rel)))
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
            _, problems = check(d)
            if len(problems) != 1:
                print(f"self-test: {rel} gave {problems}, expected one problem")
                return False
    return True


def main():
    if not self_test():
        return 1
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    seen, problems = check(root)
    for p in problems:
        print(p)
    print(f"layers: {seen} files checked, {len(problems)} problems")
    return 1 if problems or seen == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
