"""How the package is laid out, measured: what a new contributor meets.

Prints, for `relukan_bench/`:
- the largest modules (lines) and every module over the 450-line bound;
- each experiment folder's lines and modules;
- the share of annotations (arguments, returns, annotated names) that mention `Any`;
- imports of the package's own modules made inside functions, and all imports of them;
- the import cycles among the package's modules, counting imports inside functions
  (strongly connected components of the import graph).

    python benchmarks/architecture.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "relukan_bench"
BOUND = 450


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


def scan(path: Path, known: set[str]) -> tuple[set[str], int, int, int, int]:
    """(modules it imports, imports of package modules inside functions, all of them,
    annotations, annotations mentioning Any)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here, is_package = module_name(path), path.name == "__init__.py"
    edges, inner, total, annotations, anys = set(), 0, 0, 0, 0
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    in_function = {id(n) for f in functions for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        names = [m for m in imported(node, here, is_package) if m in known]
        if names:
            edges.update(names)
            total += 1
            inner += id(node) in in_function
        for annotation in _annotations(node):
            annotations += 1
            anys += "Any" in ast.unparse(annotation)
    edges.discard(here)
    return edges, inner, total, annotations, anys


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


def main() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in paths}
    lines = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in paths}
    graph, inner, total, annotations, anys = {}, 0, 0, 0, 0
    for path in paths:
        edges, i, t, a, n = scan(path, known)
        graph[module_name(path)] = edges
        inner, total, annotations, anys = inner + i, total + t, annotations + a, anys + n
    print(f"modules: {len(paths)}, lines: {sum(lines.values())}")
    for path, count in sorted(lines.items(), key=lambda item: -item[1])[:8]:
        print(f"  {count:5d}  {path.relative_to(PACKAGE.parent)}" + ("  (over the bound)" if count > BOUND else ""))
    print(f"modules over {BOUND} lines: {sum(count > BOUND for count in lines.values())}")
    for folder in sorted(p for p in (PACKAGE / "experiments").iterdir() if p.is_dir() and p.name != "__pycache__"):
        own = [p for p in paths if folder in p.parents]
        print(f"  experiments/{folder.name}/: {sum(lines[p] for p in own)} lines in {len(own)} modules, "
              f"the largest {max(lines[p] for p in own)}")
    print(f"annotations mentioning Any: {anys} of {annotations} ({100 * anys / max(1, annotations):.0f}%)")
    print(f"imports of the package's own modules: {total}, {inner} of them inside functions")
    found = cycles(graph)
    print(f"import cycles (imports inside functions counted): {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))


if __name__ == "__main__":
    main()
