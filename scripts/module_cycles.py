#!/usr/bin/env python3
"""Reports module cycles inside each crate of the Cargo workspace (`make module-cycles`).

For every workspace member (the `members` of the root Cargo.toml, globs expanded, `exclude`
honoured) the script reads the crate's `src/` tree and builds the graph of its top-level modules:
`src/a.rs`, `src/a/mod.rs` and every file under `src/a/` belong to module `a`. There is an edge
a -> b when code of module a names module b:

- `crate::b` anywhere in the code (`use crate::b::X;`, `crate::b::f()`, `use crate::{b, c};`),
  or `crate::X` where the crate root re-exports X from b (`pub use b::X;` in lib.rs);
- `super::b` (or `super::super::b`, ...) where the `super`s climb to the crate root, as they do
  from a top-level module file.

Not counted: comments (doc links included) and string literals; test-only code, that is files
named `tests.rs`, files under a `tests/` folder inside `src/`, files of `#[cfg(test)] mod x;`, and
items marked `#[cfg(test)]` (the usual inline `mod tests { ... }`). Crate roots (lib.rs, main.rs)
are not modules, and `src/bin/` (other crates) is skipped. `#[path]` attributes are not followed.

Every elementary cycle is printed as `crate: a -> b -> a`, followed by the files and lines of its
edges. Exit status 0 when no crate has a cycle, 1 otherwise.

Usage: python3 scripts/module_cycles.py [--root WORKSPACE_ROOT]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# Cycles printed per strongly connected component at most (the count is exponential in theory).
MAX_CYCLES = 200

IDENT = r"(?:r#)?[A-Za-z_][A-Za-z0-9_]*"
CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
INNER_CFG_TEST = re.compile(r"#\s*!\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
CRATE_PATH = re.compile(r"(?<![A-Za-z0-9_])\$?crate\s*::\s*")
SUPER_PATH = re.compile(r"(?<![A-Za-z0-9_:])((?:super\s*::\s*)+)")
INLINE_MOD = re.compile(r"(?<![A-Za-z0-9_])mod\s+" + IDENT + r"\s*\{")
MOD_DECL = re.compile(r"^\s*(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;")
USE_DECL = re.compile(r"(?<![A-Za-z0-9_])use\s+")
CHAR_LITERAL = re.compile(r"'(?:\\(?:u\{[0-9A-Fa-f_]+\}|x[0-9A-Fa-f]{2}|.)|[^\\'\n])'")
RAW_STRING = re.compile(r'b?r(#*)"')
TOKEN = re.compile(r"\s*(::|[{},*;]|" + IDENT + r")")


@dataclass
class Crate:
    """One workspace member and its module graph."""

    name: str
    path: Path
    # edges[a][b] = places (file, line) where module a names module b
    edges: dict[str, dict[str, list[tuple[Path, int]]]] = field(default_factory=dict)


# ------------------------------------------------------------------------------ workspace


def workspace_crates(root: Path) -> list[tuple[str, Path]]:
    """(package name, folder) of every workspace member, in the order of `members`."""
    manifest = tomllib.loads((root / "Cargo.toml").read_text(encoding="utf-8"))
    workspace = manifest.get("workspace", {})
    excluded = {(root / e).resolve() for e in workspace.get("exclude", [])}
    found: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    if "package" in manifest:
        found.append((manifest["package"].get("name", root.name), root))
        seen.add(root.resolve())
    for pattern in workspace.get("members", []):
        for folder in sorted(root.glob(pattern)):
            resolved = folder.resolve()
            if resolved in seen or resolved in excluded or not (folder / "Cargo.toml").is_file():
                continue
            seen.add(resolved)
            package = tomllib.loads((folder / "Cargo.toml").read_text(encoding="utf-8")).get("package", {})
            found.append((package.get("name", folder.name), folder))
    return found


def module_path(src: Path, file: Path) -> tuple[str, ...]:
    """The module path of a source file: `a.rs`, `a/mod.rs` -> (a,); `a/b.rs` -> (a, b); root -> ()."""
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts and parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return ()
    return tuple(parts)


# ------------------------------------------------------------------------------ source text


def blank(text: list[str], start: int, end: int) -> None:
    """Replaces text[start:end] by spaces, keeping the newlines (so line numbers hold)."""
    for k in range(start, end):
        if text[k] != "\n":
            text[k] = " "


def strip_comments_and_strings(src: str) -> str:
    """The source with comments and the contents of string and char literals blanked out."""
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            end = src.find("\n", i)
            end = n if end < 0 else end
            blank(out, i, end)
            i = end
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(out, i, j)
            i = j
        elif c in "rb" and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")) and RAW_STRING.match(src, i):
            m = RAW_STRING.match(src, i)
            assert m is not None
            close = '"' + m.group(1)
            end = src.find(close, m.end())
            end = n if end < 0 else end + len(close)
            blank(out, i, end)
            i = end
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            blank(out, i, j + 1)
            i = j + 1
        elif c == "'":
            m = CHAR_LITERAL.match(src, i)
            if m:
                blank(out, i, m.end())
                i = m.end()
            else:  # a lifetime or a label
                i += 1
        else:
            i += 1
    return "".join(out)


def matching(code: str, open_at: int) -> int:
    """Index just past the bracket that closes the one at `open_at` (or the end of the text)."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = []
    for j in range(open_at, len(code)):
        ch = code[j]
        if ch in pairs:
            stack.append(pairs[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
            if not stack:
                return j + 1
    return len(code)


def strip_test_items(code: str) -> tuple[str, list[str]]:
    """Blanks every item marked `#[cfg(test)]`; also returns the names of `#[cfg(test)] mod x;`."""
    out = list(code)
    test_mods: list[str] = []
    for m in CFG_TEST.finditer(code):
        j = m.end()
        # further attributes of the same item
        while True:
            while j < len(code) and code[j].isspace():
                j += 1
            if code.startswith("#", j) and "[" in code[j : j + 3]:
                j = matching(code, code.index("[", j))
            else:
                break
        item_start = j
        while j < len(code) and code[j] not in ";{":
            j = matching(code, j) if code[j] in "([" else j + 1
        if j < len(code) and code[j] == "{":
            end = matching(code, j)
        else:
            end = j + 1
            decl = MOD_DECL.match(code[item_start:end])
            if decl:
                test_mods.append(decl.group(1).removeprefix("r#"))
        blank(out, m.start(), end)
    return "".join(out), test_mods


def inline_mod_spans(code: str) -> list[tuple[int, int]]:
    """The spans of inline `mod x { ... }` blocks (a `super` inside climbs one level more)."""
    return [(m.end() - 1, matching(code, m.end() - 1)) for m in INLINE_MOD.finditer(code)]


# ------------------------------------------------------------------------------ use trees


def tokens(text: str) -> list[str]:
    out, i = [], 0
    while i < len(text):
        m = TOKEN.match(text, i)
        if not m:
            break
        out.append(m.group(1))
        i = m.end()
    return out


# One leaf of a use tree: its full path and the name it is known by.
Leaf = tuple[tuple[str, ...], str]


def use_leaves(toks: list[str], i: int = 0, prefix: tuple[str, ...] = ()) -> tuple[list[Leaf], int]:
    """Parses one use tree from toks[i]; returns its leaves and the index after the tree.

    `a::{b, c::D as E, self}` gives ((a, b), b), ((a, c, D), E), ((a,), a); globs are left out.
    """
    path = list(prefix)
    leaves: list[Leaf] = []
    while i < len(toks):
        tok = toks[i]
        if tok == "{":
            i += 1
            while i < len(toks) and toks[i] != "}":
                inner, after = use_leaves(toks, i, tuple(path))
                leaves.extend(inner)
                i = max(after, i + 1)  # always move on (past a `,` or a token out of place)
            return leaves, i + 1
        if tok == "*":
            return leaves, i + 1
        if tok in (",", "}", ";", "::"):
            break
        if tok == "self" and path:
            pass  # `a::{self}` names `a` itself
        else:
            path.append(tok.removeprefix("r#"))
        i += 1
        if i < len(toks) and toks[i] == "::":
            i += 1
            continue
        name = path[-1] if path else ""
        if i + 1 < len(toks) and toks[i] == "as":
            name, i = toks[i + 1], i + 2
        leaves.append((tuple(path), name))
        break
    return leaves, i


def first_segments(code: str, at: int) -> list[str]:
    """First path segments named at `at` (just after `crate::` or `super::`): one, or a group's."""
    end = matching(code, at) if code.startswith("{", at) else at + 200
    leaves, _ = use_leaves(tokens(code[at:end]))
    return [path[0] for path, _ in leaves if path]


def root_reexports(code: str, modules: set[str]) -> dict[str, str]:
    """Names the crate root imports or re-exports from a top-level module: name -> module."""
    names: dict[str, str] = {}
    for m in USE_DECL.finditer(code):
        end = code.find(";", m.end())
        leaves, _ = use_leaves(tokens(code[m.end() : end if end >= 0 else len(code)]))
        for path, name in leaves:
            path = path[1:] if path and path[0] in ("crate", "self") else path
            if len(path) > 1 and path[0] in modules:
                names[name] = path[0]
    return names


# ------------------------------------------------------------------------------ graph


def line_of(code: str, at: int) -> int:
    return code.count("\n", 0, at) + 1


def is_test_path(path: tuple[str, ...], test_paths: set[tuple[str, ...]]) -> bool:
    return "tests" in path or any(path[: len(t)] == t for t in test_paths)


def crate_graph(name: str, folder: Path, root: Path) -> Crate:
    """The top-level module graph of one crate."""
    crate = Crate(name, folder)
    src = folder / "src"
    files = sorted(f for f in src.rglob("*.rs") if "bin" not in f.relative_to(src).parts[:1])
    codes: dict[Path, str] = {}
    test_paths: set[tuple[str, ...]] = set()
    for f in files:
        code = strip_comments_and_strings(f.read_text(encoding="utf-8"))
        if INNER_CFG_TEST.search(code):
            test_paths.add(module_path(src, f))
        code, test_mods = strip_test_items(code)
        test_paths.update(module_path(src, f) + (t,) for t in test_mods)
        codes[f] = code
    modules = {module_path(src, f)[0] for f in files if module_path(src, f)}
    modules = {m for m in modules if not is_test_path((m,), test_paths)}
    reexports: dict[str, str] = {}
    for f in files:
        if module_path(src, f) == ():
            reexports.update(root_reexports(codes[f], modules))

    def resolve(segment: str) -> str | None:
        return segment if segment in modules else reexports.get(segment)

    for f in files:
        path = module_path(src, f)
        if not path or is_test_path(path, test_paths):
            continue
        code, own = codes[f], path[0]
        shown = f.relative_to(root) if f.is_relative_to(root) else f
        targets: list[tuple[str, int]] = []
        for m in CRATE_PATH.finditer(code):
            targets.extend((t, m.start()) for t in first_segments(code, m.end()))
        spans = inline_mod_spans(code)
        for m in SUPER_PATH.finditer(code):
            climbs = m.group(1).count("super")
            depth = len(path) + sum(1 for a, b in spans if a < m.start() < b)
            if climbs == depth:  # the supers reach the crate root
                targets.extend((t, m.start()) for t in first_segments(code, m.end()))
        for segment, at in targets:
            target = resolve(segment)
            if target and target != own:
                crate.edges.setdefault(own, {}).setdefault(target, []).append((shown, line_of(code, at)))
    return crate


def strongly_connected(nodes: list[str], edges: dict[str, dict[str, list]]) -> list[list[str]]:
    """Tarjan's components with more than one node, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, {})):
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
                out.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(out)


def cycles(crate: Crate) -> list[list[str]]:
    """Every elementary cycle, each starting at its smallest module: [a, b, a]."""
    nodes = sorted(set(crate.edges) | {t for targets in crate.edges.values() for t in targets})
    found: list[list[str]] = []
    for component in strongly_connected(nodes, crate.edges):
        members = set(component)
        in_component: list[list[str]] = []
        for start in component:
            allowed = {m for m in members if m > start}

            def walk(path: list[str]) -> None:
                if len(in_component) >= MAX_CYCLES:
                    return
                for nxt in sorted(crate.edges.get(path[-1], {})):
                    if nxt == start:
                        in_component.append(path + [start])
                    elif nxt in allowed and nxt not in path:
                        walk(path + [nxt])

            walk([start])
        found.extend(in_component)
    return found


def describe(crate: Crate, cycle: list[str]) -> list[str]:
    """`crate: a -> b -> a`, then one line per edge with its places."""
    lines = [f"{crate.name}: {' -> '.join(cycle)}"]
    for a, b in zip(cycle, cycle[1:]):
        by_file: dict[Path, list[int]] = {}
        for file, line in crate.edges[a][b]:
            by_file.setdefault(file, []).append(line)
        places = ", ".join(f"{file}:{','.join(map(str, sorted(set(ls))))}" for file, ls in by_file.items())
        lines.append(f"    {a} -> {b}: {places}")
    return lines


def check(root: Path) -> tuple[list[str], int]:
    """The report lines and the number of cycles over the whole workspace."""
    report: list[str] = []
    total = 0
    crates = workspace_crates(root)
    for name, folder in crates:
        if not (folder / "src").is_dir():
            continue
        crate = crate_graph(name, folder, root)
        for cycle in cycles(crate):
            report.extend(describe(crate, cycle))
            total += 1
    summary = f"module_cycles: {total} cycle(s)" if total else "module_cycles: no module cycles"
    report.append(f"{summary} in {len(crates)} crate(s)")
    return report, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent, help="workspace root")
    args = ap.parse_args(argv)
    report, total = check(args.root.resolve())
    print("\n".join(report))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
