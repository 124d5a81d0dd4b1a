#!/usr/bin/env python3
"""Fails when modules inside a crate import each other in a circle (tests left out).

Checked at two levels: among each crate's top-level modules (`crate::a` in files under
`a`), and among the children of every directory module (`super::x` or `crate::m::x` in
files under `m/`). Usage: scripts/module-circles.py [SRC_DIR ...] (default: every crate).
"""
import glob
import os
import re
import sys


def modules(folder):
    """Each child module of `folder` and the files that make it up."""
    found = {}
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs", "mod.rs"):
            found.setdefault(entry[:-3], []).append(path)
        elif os.path.isdir(path) and entry != "bin":
            found.setdefault(entry, [])
            for root, _, files in os.walk(path):
                found[entry] += [os.path.join(root, f) for f in files if f.endswith(".rs")]
    return found


def code_of(path):
    """The file without comments and without its `#[cfg(test)] mod …` (test files: nothing)."""
    if path.endswith("tests.rs") or "/tests/" in path or "/testkit/" in path:
        return ""
    text = re.sub(r"//[^\n]*", "", open(path, encoding="utf-8").read())
    test_module = re.search(r"#\[cfg\(test\)\]\s*mod \w+ \{", text)
    return text if not test_module else text[: test_module.start()]


def named(text, prefix, names):
    """Which of `names` the text reaches through `prefix::name` or `prefix::{name, …}`."""
    hits = set(re.findall(prefix + r"(\w+)", text))
    for group in re.findall(prefix + r"\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", text):
        for part in re.sub(r"\{[^{}]*\}", "", group).split(","):
            hits.add(part.strip().split("::")[0])
    return hits & names


def circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def check(folder, prefixes):
    mods = modules(folder)
    names = set(mods)
    graph = {m: set() for m in mods}
    why = {}
    for module, files in mods.items():
        for path in files:
            text = code_of(path)
            for prefix, direct_only in prefixes:
                if direct_only and os.path.dirname(path) != folder:
                    continue
                for other in named(text, prefix, names) - {module}:
                    graph[module].add(other)
                    why.setdefault((module, other), path)
    problems = []
    for component in circles(graph):
        lines = [f"{folder}: modules import each other in a circle: {', '.join(component)}"]
        for a in component:
            for b in component:
                if b in graph[a]:
                    lines.append(f"    {a} -> {b} ({why[(a, b)]})")
        problems.append("\n".join(lines))
    return problems


def main(roots):
    problems = []
    for root in roots:
        problems += check(root, [(r"crate::", False)])
        for folder, _, _ in os.walk(root):
            if folder == root or os.path.basename(folder) in ("bin", "tests"):
                continue
            path = os.path.relpath(folder, root).replace(os.sep, "::")
            problems += check(folder, [(r"crate::" + re.escape(path) + "::", False), (r"super::", True)])
    for problem in problems:
        print(problem)
    if not problems:
        print(f"no import circle in {len(roots)} crates")
    return 1 if problems else 0


if __name__ == "__main__":
    default = ["src"] + sorted(glob.glob("crates/*/src"))
    sys.exit(main(sys.argv[1:] or default))
