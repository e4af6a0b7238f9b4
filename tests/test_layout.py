"""The package's shape, checked: concepts in flow order, no cycles, private parts kept private.

The flow is task rows -> prompts -> judge -> replies -> verdicts -> scores ->
results -> board -> report/site, and the packages are layered in that order: a
package imports only packages before it (its own modules freely), so no import
runs back up and no cycle can form. Across packages only a package's public
names are imported (what its ``__init__`` offers); ``_``-prefixed modules and
names stay inside their package. The tests and benchmarks are held to the same
rule: they use what a user can import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "halubench"

# Bottom to top. Every layer may read ``halubench._version``. The root module (``halubench/__init__.py``)
# offers the Python API (``evaluate``, the board) over run/ and board/, lazily, so that importing it
# costs nothing; the CLI is a layer over that API.
LAYERS = (
    "halubench._version",
    "halubench.errors",
    "halubench._atomic_io",
    "halubench.config",
    "halubench.data",
    "halubench.backends",
    "halubench.scoring",
    "halubench.results",
    "halubench.run",
    "halubench.board",
    "halubench.report",
    "halubench.integrations",
    "halubench.submission",
    "halubench.sitegen",
    "halubench.refresh",
    "halubench",
    "halubench.cli",
    "halubench.__main__",
)
MAX_TOP_LEVEL_MODULES = 8
# Bottom modules kept out of the public names (``halubench.__version__`` is the public spelling) yet shared.
SHARED_PRIVATE = ("halubench._atomic_io", "halubench._version")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """The concept a module belongs to: ``halubench.backends._cache`` -> ``halubench.backends``."""
    return max((layer for layer in LAYERS if module == layer or module.startswith(layer + ".")), key=len)


def halubench_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every import of halubench in a file, inside functions and
    ``TYPE_CHECKING`` blocks too: an import that only a type checker runs still points the wrong way."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "halubench":
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names if alias.name.split(".")[0] == "halubench"]
    return found


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_top_level_keeps_only_what_a_user_imports():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_every_module_lives_in_a_known_layer():
    unplaced = [module_name(p) for p in package_modules() if layer_of(module_name(p)) == "halubench"
                and module_name(p) != "halubench"]
    assert not unplaced, f"modules outside the layered packages: {unplaced}"


def test_packages_import_only_the_layers_before_them():
    order = {layer: index for index, layer in enumerate(LAYERS)}
    wrong = []
    for path in package_modules():
        here = layer_of(module_name(path))
        for line, module, _ in halubench_imports(path):
            there = layer_of(module)
            if there != here and order[there] > order[here]:
                wrong.append(f"{path.relative_to(REPO)}:{line} ({here}) imports {module} ({there})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_between_modules():
    modules = {module_name(p): p for p in package_modules()}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for _, module, names in halubench_imports(path):
            # `from package import submodule` imports the submodule too.
            targets = {module, *(f"{module}.{n}" for n in names if f"{module}.{n}" in modules)}
            graph[name] |= {t for t in targets if t in modules and t != name}
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _private_uses(path: Path, own_layer: str | None) -> list[str]:
    wrong = []
    for line, module, names in halubench_imports(path):
        private_module = any(part.startswith("_") and part != "__main__" for part in module.split(".")[1:])
        if private_module and layer_of(module) != own_layer and module not in SHARED_PRIVATE:
            wrong.append(f"{path.relative_to(REPO)}:{line} imports the private module {module}")
        wrong += [f"{path.relative_to(REPO)}:{line} imports the private name {module}.{n}"
                  for n in names if n.startswith("_") and n != "__version__"]
    return wrong


def test_packages_use_each_other_only_through_public_names():
    wrong = [w for p in package_modules() for w in _private_uses(p, layer_of(module_name(p)))]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("folder", ["tests", "benchmarks"])
def test_tests_and_benchmarks_import_only_public_names(folder):
    wrong = [w for p in sorted((REPO / folder).rglob("*.py")) for w in _private_uses(p, None)]
    assert not wrong, "\n".join(wrong)


def test_every_package_names_what_it_offers():
    """Each package's ``__init__`` lists its public names, and each of them exists (the root's, lazily)."""
    import importlib

    for init in sorted(PACKAGE.rglob("__init__.py")):
        name = module_name(init)
        package = importlib.import_module(name)
        offered = getattr(package, "__all__", None)
        assert offered, f"{name} has no __all__"
        missing = [n for n in offered if not hasattr(package, n)]
        assert not missing, f"{name}.__all__ names what it lacks: {missing}"
