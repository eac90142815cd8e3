"""How the package is laid out, measured: what a new contributor meets.

Prints, for `relukan_bench/`:
- the largest modules (lines) and every module over the 450-line bound;
- each experiment folder's lines and modules;
- the share of annotations (arguments, returns, annotated names) that mention `Any`;
- imports of the package's own modules made inside functions, and all imports of them; those
  of a module that is heavy to import (it imports one of HEAVY at its top, itself or through
  the package's modules it imports there) are lazy by design, every other one is counted apart;
- the import cycles among the package's modules, counting imports inside functions
  (strongly connected components of the import graph).

    python benchmarks/architecture.py
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "relukan_bench"
BOUND = 450
#: libraries imported only where needed (docs/development.md says why: each costs tens to
#: hundreds of milliseconds, against `--help`'s half second)
HEAVY = {"torch", "matplotlib", "pandas", "kan", "dask", "distributed", "numpy", "scipy", "pydantic", "yaml", "psutil"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.AST, here: str, is_package: bool) -> list[str]:
    """The package modules an import statement names (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith("relukan_bench")]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parent = here.split(".") if is_package else here.split(".")[:-1]
            parent = parent[: len(parent) - node.level + 1]
            base = ".".join(parent + ([base] if base else []))
        if base.startswith("relukan_bench"):
            return [base] + [f"{base}.{alias.name}" for alias in node.names]
    return []


def scan(path: Path, known: set[str]) -> tuple[set[str], list[list[str]], int, int, int, set[str]]:
    """(modules it imports, the package modules each import inside a function names, all
    imports of package modules, annotations, annotations mentioning Any, what it imports at
    its top: package modules and the top-level names of libraries)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here, is_package = module_name(path), path.name == "__init__.py"
    edges, inner, total, annotations, anys = set(), [], 0, 0, 0
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    in_function = {id(n) for f in functions for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        names = [m for m in imported(node, here, is_package) if m in known]
        if names:
            edges.update(names)
            total += 1
            if id(node) in in_function:
                inner.append(names)
        for annotation in _annotations(node):
            annotations += 1
            anys += "Any" in ast.unparse(annotation)
    edges.discard(here)
    return edges, inner, total, annotations, anys, _top(tree, here, is_package, known)


def _top(tree: ast.Module, here: str, is_package: bool, known: set[str]) -> set[str]:
    """What a module imports when it is imported: the statements of its body (not those of
    its functions, nor those under `if TYPE_CHECKING:`)."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names if not alias.name.startswith("relukan_bench"))
        elif isinstance(node, ast.ImportFrom) and not node.level and not (node.module or "").startswith("relukan_bench"):
            found.add((node.module or "").split(".")[0])
        found.update(m for m in imported(node, here, is_package) if m in known and m != here)
    return found


def heavy_modules(tops: dict[str, set[str]]) -> set[str]:
    """The package modules whose import imports one of HEAVY (at their top, or through the
    package modules imported at their top)."""
    heavy = {module for module, top in tops.items() if top & HEAVY}
    grown = True
    while grown:
        more = {module for module, top in tops.items() if module not in heavy and top & heavy}
        heavy |= more
        grown = bool(more)
    return heavy


def _annotations(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        arguments += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
        return [a.annotation for a in arguments if a.annotation is not None] + ([node.returns] if node.returns else [])
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    return []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@dataclass
class Layout:
    """The package as measured: lines per module, the import graph, imports inside functions
    (each a list of the package modules it names, per importing module), the modules heavy to
    import, annotations and those mentioning Any."""

    paths: list[Path]
    lines: dict[Path, int]
    graph: dict[str, set[str]]
    inner: dict[str, list[list[str]]]
    heavy: set[str]
    imports: int
    annotations: int
    anys: int

    def over_bound(self) -> list[Path]:
        return [path for path, count in self.lines.items() if count > BOUND]

    def light_inner(self) -> list[tuple[str, list[str]]]:
        """Imports inside functions of package modules that are not heavy to import."""
        return [(module, names) for module, found in self.inner.items() for names in found if not set(names) & self.heavy]


def measure() -> Layout:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in paths}
    lines = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in paths}
    graph, inner, tops, total, annotations, anys = {}, {}, {}, 0, 0, 0
    for path in paths:
        edges, found, count, a, n, top = scan(path, known)
        name = module_name(path)
        graph[name], inner[name], tops[name] = edges, found, top
        total, annotations, anys = total + count, annotations + a, anys + n
    return Layout(paths, lines, graph, inner, heavy_modules(tops), total, annotations, anys)


def main() -> None:
    layout = measure()
    paths, lines = layout.paths, layout.lines
    print(f"modules: {len(paths)}, lines: {sum(lines.values())}")
    for path, count in sorted(lines.items(), key=lambda item: -item[1])[:8]:
        print(f"  {count:5d}  {path.relative_to(PACKAGE.parent)}" + ("  (over the bound)" if count > BOUND else ""))
    print(f"modules over {BOUND} lines: {len(layout.over_bound())}")
    for folder in sorted(p for p in (PACKAGE / "experiments").iterdir() if p.is_dir() and p.name != "__pycache__"):
        own = [p for p in paths if folder in p.parents]
        print(f"  experiments/{folder.name}/: {sum(lines[p] for p in own)} lines in {len(own)} modules, "
              f"the largest {max(lines[p] for p in own)}")
    print(f"annotations mentioning Any: {layout.anys} of {layout.annotations} "
          f"({100 * layout.anys / max(1, layout.annotations):.0f}%)")
    lazy = sum(len(found) for found in layout.inner.values())
    light = layout.light_inner()
    print(f"imports of the package's own modules: {layout.imports}, {lazy} of them inside functions: "
          f"{lazy - len(light)} of modules heavy to import (lazy by design), {len(light)} others")
    for module, names in light:
        print(f"  {module}: {', '.join(names)}")
    found = cycles(layout.graph)
    print(f"import cycles (imports inside functions counted): {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))


if __name__ == "__main__":
    main()
