"""The package's import graph: the core never imports the analysis layer, no cycles.

The graph is read from the source (``ast``), not by importing: every
``import``/``from ... import`` at module level or inside functions (lazy
imports count), and every ``importlib.import_module("flyvis....")`` /
``__import__`` call with a literal module name. Imports under
``if TYPE_CHECKING:`` are annotations only and are skipped.

Rules:

* A core module (``flyvis.connectome``, ``network``, ``datasets``, ``task``,
  ``solver``, ``utils``) never imports ``flyvis.analysis``, nor names an
  analysis module in a string. The one exception is the compatibility shim of
  a core *package* ``__init__.py``: a lazy ``__getattr__`` (and its table of
  names) that re-exports flyvis 1.2.0's public names, e.g.
  ``flyvis.connectome.ConnectomeView``.
* No import cycle between modules, lazy imports included (the edges of the
  package-level compatibility shims excepted), and none at module level.
"""

import ast
import re
from pathlib import Path

import pytest

import flyvis

PACKAGE_DIR = Path(flyvis.__file__).parent
CORE = ("connectome", "network", "datasets", "task", "solver", "utils")
ANALYSIS_NAME = re.compile(r"^flyvis\.analysis(\.\w+)*$")


def module_files(root: Path = PACKAGE_DIR):
    """``{dotted module name: file}`` of every module of the package."""
    modules = {}
    for file in sorted(root.rglob("*.py")):
        parts = list(file.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = file
    return modules


class _Imports(ast.NodeVisitor):
    """Collects ``(target, line, in_function, in_package_getattr_shim)``."""

    def __init__(self, module: str, is_package: bool):
        self.package = module if is_package else module.rpartition(".")[0]
        self.is_package = is_package
        self.functions = []
        self.found = []
        self.strings = []

    def _add(self, target, node):
        shim = self.is_package and "__getattr__" in self.functions
        self.found.append((target, node.lineno, bool(self.functions), shim))

    def visit_FunctionDef(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        test = node.test
        name = getattr(test, "id", None) or getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module
        for alias in node.names:
            self._add(f"{name}.{alias.name}", node)

    def visit_Call(self, node):
        func = node.func
        called = getattr(func, "attr", None) or getattr(func, "id", None)
        if (
            called in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            self._add(node.args[0].value, node)
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and ANALYSIS_NAME.match(node.value):
            self.strings.append((node.value, node.lineno))


def import_graph(root: Path = PACKAGE_DIR):
    """Imports of every module, resolved to modules of the package.

    Returns:
        ``(modules, edges, strings)``: ``edges[module]`` is a list of
        ``(target module, line, lazy, shim)``; ``strings[module]`` the literal
        analysis module names it contains.
    """
    modules = module_files(root)

    def resolve(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges, strings = {}, {}
    for module, file in modules.items():
        visitor = _Imports(module, file.name == "__init__.py")
        visitor.visit(ast.parse(file.read_text(), str(file)))
        edges[module] = [
            (resolve(target), line, lazy, shim)
            for target, line, lazy, shim in visitor.found
            if target.split(".")[0] == "flyvis" and resolve(target)
        ]
        strings[module] = visitor.strings
    return modules, edges, strings


def is_core(module: str) -> bool:
    return module.split(".")[1:2] and module.split(".")[1] in CORE


def core_to_analysis(edges, strings, modules):
    """Violations ``"module:line -> target"`` of the core/analysis rule."""
    bad = []
    for module, targets in edges.items():
        if not is_core(module):
            continue
        for target, line, _lazy, shim in targets:
            if target.startswith("flyvis.analysis") and not shim:
                bad.append(f"{module}:{line} -> {target}")
        if modules[module].name != "__init__.py":
            bad += [f"{module}:{line} names {name!r}" for name, line in strings[module]]
    return bad


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def module_level_graph(edges):
    return {
        m: {t for t, _l, lazy, _s in targets if not lazy and t != m}
        for m, targets in edges.items()
    }


def full_graph(edges):
    return {
        m: {t for t, _l, _lazy, shim in targets if t != m and not shim}
        for m, targets in edges.items()
    }


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_graph_sees_known_imports(graph):
    modules, edges, _ = graph
    assert "flyvis.network.network" in modules and "flyvis.analysis.views" in modules
    targets = {t for t, *_ in edges["flyvis.analysis.views"]}
    assert "flyvis.network.network_view" in targets
    # a lazy import inside a method is seen and marked lazy
    lazy = [t for t, _l, is_lazy, _s in edges["flyvis.network.network"] if is_lazy]
    assert "flyvis.network.stepper" in lazy


def test_core_never_imports_analysis(graph):
    modules, edges, strings = graph
    assert core_to_analysis(edges, strings, modules) == []


def test_no_module_level_import_cycles(graph):
    _, edges, _ = graph
    assert cycles(module_level_graph(edges)) == []


def test_no_import_cycles_lazy_included(graph):
    _, edges, _ = graph
    assert cycles(full_graph(edges)) == []


def _scratch_package(tmp_path, files):
    root = tmp_path / "flyvis"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_detects_a_core_import_of_analysis(tmp_path):
    """The rule fails on a deliberately added import (lazy or by string)."""
    root = _scratch_package(
        tmp_path,
        {
            "__init__.py": "",
            "analysis/__init__.py": "",
            "analysis/plots.py": "import numpy\n",
            "network/__init__.py": (
                "def __getattr__(name):\n"
                "    from flyvis.analysis import plots\n"
                "    return plots\n"
            ),
            "network/view.py": (
                "import importlib\n"
                "def plot(self):\n"
                "    from flyvis.analysis.plots import numpy\n"
                "def other(self):\n"
                "    return importlib.import_module('flyvis.analysis.plots')\n"
            ),
            "network/table.py": "LAZY = {'x': 'flyvis.analysis.plots'}\n",
            "task/__init__.py": "from flyvis.analysis import plots\n",
        },
    )
    modules, edges, strings = import_graph(root)
    bad = core_to_analysis(edges, strings, modules)
    assert any(b.startswith("flyvis.network.view:3 ") for b in bad)
    assert any(b.startswith("flyvis.network.view:5 ") for b in bad)
    assert any(b.startswith("flyvis.network.table:1 names") for b in bad)
    # an eager import in a package __init__ is not a shim
    assert any(b.startswith("flyvis.task:1 ") for b in bad)
    # the package-level __getattr__ shim is allowed
    assert not any(b.startswith("flyvis.network:") for b in bad)


def test_detects_cycles(tmp_path):
    root = _scratch_package(
        tmp_path,
        {
            "__init__.py": "",
            "utils/__init__.py": "",
            "utils/a.py": "from flyvis.utils import b\n",
            "utils/b.py": "def f():\n    from flyvis.utils.a import x\n",
            "utils/c.py": "from flyvis.utils import d\n",
            "utils/d.py": "import flyvis.utils.c\n",
        },
    )
    _, edges, _ = import_graph(root)
    assert cycles(module_level_graph(edges)) == [["flyvis.utils.c", "flyvis.utils.d"]]
    assert sorted(cycles(full_graph(edges))) == [
        ["flyvis.utils.a", "flyvis.utils.b"],
        ["flyvis.utils.c", "flyvis.utils.d"],
    ]


def test_no_module_over_600_lines():
    long = {
        module: n
        for module, file in module_files().items()
        if (n := len(file.read_text().splitlines())) > 600
    }
    assert long == {}
