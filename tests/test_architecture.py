"""The package's shape: layers as declared in pyproject.toml, no import cycles, few deferred imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rrampaper"


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_cycle_finder_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("rrampaper")


def test_no_import_cycles_between_modules(graph):
    # a package's __init__ importing its own modules, which import names from that package, is
    # Python's re-export idiom and not counted; any other cycle is (e.g. the former
    # tasks.base -> train -> tasks)
    edges = {m: {d for d in graph.find_modules_directly_imported_by(m)
                 if d.startswith("rrampaper") and d != m and d not in _ancestors(m)}
             for m in graph.modules}
    assert _cycles(edges) == []


def test_no_cycles_between_sub_packages(graph):
    top = {m: m.split(".")[1] if m.count(".") else m for m in graph.modules}
    edges: dict[str, set[str]] = {unit: set() for unit in set(top.values())}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("rrampaper.") and top[imported] != top[module] \
                    and module != "rrampaper":
                edges[top[module]].add(top[imported])
    assert _cycles(edges) == []
    assert "cli" not in set().union(*edges.values()), "the command line is imported by nobody"


def test_layer_contract_holds():
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_function_level_imports_only_defer_heavy_dependencies():
    """Imports inside functions are allowed for the few heavy, narrowly used third-party
    libraries, each with a comment saying so; never for the package's own modules."""
    deferred = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    assert not module.startswith("rrampaper"), f"{path}:{node.lineno} imports {module} in a function"
                    above = lines[node.lineno - 2].strip()
                    commented = "deferred" in lines[node.lineno - 1] or above.startswith("# deferred") \
                        or (above.startswith(("import ", "from ")) or above.endswith(")"))
                    assert commented, f"{path}:{node.lineno}: a deferred import needs a '# deferred: why' comment"
                    deferred.append(module.split(".")[0])
    assert set(deferred) <= {"tqdm", "requests", "librosa", "nbformat", "nbconvert", "papermill",
                             "nbclient", "zmq", "jupyter_client", "dask", "submitit"}, sorted(set(deferred))


def test_package_imports_in_a_fresh_interpreter_without_the_heavy_optional_stack():
    import subprocess

    code = ("import sys, importlib, pkgutil, rrampaper\n"
            "for m in pkgutil.walk_packages(rrampaper.__path__, 'rrampaper.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(n for n in ('papermill', 'librosa', 'nbconvert') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _private_owner(module: str) -> str | None:
    """The package that owns ``module`` if ``module`` is (inside) a private ``_x`` module."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def test_private_owner_finds_the_private_component():
    assert _private_owner("rrampaper.devices._params") == "rrampaper.devices"
    assert _private_owner("rrampaper._checks") == "rrampaper"
    assert _private_owner("rrampaper.devices.streams") is None


def test_no_module_imports_a_private_module_of_another_sub_package(graph):
    """A ``_x`` module is its sub-package's own; what others need is public (e.g. seed helpers
    live in ``rrampaper.devices.streams``). The root's foundation helpers (``rrampaper._checks``,
    ``_io``, ``_progress``) are shared by every layer and allowed."""
    offending = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            owner = _private_owner(imported) if imported.startswith("rrampaper.") else None
            if owner is None or owner == "rrampaper":
                continue
            if module != owner and not module.startswith(owner + "."):
                offending.append(f"{module} imports {imported}")
    assert offending == []
