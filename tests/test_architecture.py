"""The package's shape: no import cycle, light modules stay light."""

import ast
import subprocess
import sys
from pathlib import Path

import skembrec

PACKAGE = Path(skembrec.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph():
    """Edges module -> skembrec module, for every import statement anywhere in a
    module (function-level and conditional imports included)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module
                # `from . import x` imports the submodule x when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            else:
                continue
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_import_graph_has_no_cycle():
    graph = _import_graph()
    assert "skembrec._base" in graph and graph["skembrec.models._funk"]
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in graph[node]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_input_package_and_the_light_modules_never_reach_the_engine():
    # the no-TensorFlow boundary is a folder: nothing under skembrec._input
    # (nor the splitters and metrics) imports skembrec._engine, at any depth,
    # even inside a function (the loaders' shards stream into training through
    # the engine: the test below checks that loading never starts TensorFlow)
    graph = _import_graph()
    light = [m for m in graph if m.startswith(("skembrec._input",
                                               "skembrec.model_selection"))]
    light.append("skembrec.metrics")
    assert "skembrec._input.ratings" in light
    for module in light:
        heavy = sorted(m for m in _reachable(graph, module) | {module}
                       if m.startswith("skembrec._engine"))
        assert not heavy, f"{module} reaches {heavy}"


def test_datasets_and_model_selection_never_import_tensorflow(tmp_path):
    # a MovieLens-100K-format file made here, so the check runs everywhere
    code = (
        "import sys\n"
        "from skembrec.datasets import load_movielens, make_ratings\n"
        "from skembrec.metrics import make_ranking_scorer\n"
        "from skembrec.model_selection import TemporalProbeSplit, UserHoldoutSplit\n"
        "frame = make_ratings(n_users=40, n_items=30, n_ratings=600, random_state=0).frame\n"
        f"path = {str(tmp_path / 'u.data')!r}\n"
        "frame[['user', 'item', 'rating', 'timestamp']].to_csv(path, sep='\\t', "
        "header=False, index=False)\n"
        "X, y = load_movielens(path, return_X_y=True)\n"
        "train, test = next(TemporalProbeSplit(time_column='timestamp').split(X, y))\n"
        "next(UserHoldoutSplit(random_state=0).split(X, y))\n"
        "make_ranking_scorer('ndcg', k=5)\n"
        "assert len(train) + len(test) == len(X) == 600\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout == "[]\n"


# the private Keras and TensorFlow APIs the package relies on, and the one
# module allowed each (a version that changes them breaks one file)
PRIVATE_APIS = {
    "_value": "skembrec._engine.programs",  # the variable behind a Keras variable
    "tensorflow.python": "skembrec._engine.programs",  # VariableSpec
    "keras.src": "skembrec._engine.runtime",  # Keras' pending-variable list
}


def test_private_keras_and_tensorflow_apis_are_named_in_one_module_each():
    uses = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Attribute) and node.attr == "_value":
                names = ["_value"]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [api for api in PRIVATE_APIS if node.module.startswith(api)]
            elif isinstance(node, ast.Import):
                names = [api for api in PRIVATE_APIS for alias in node.names
                         if alias.name.startswith(api) and api != "_value"]
            for api in names:
                uses.setdefault(api, set()).add(_module_name(path))
    assert {api: sorted(modules) for api, modules in uses.items()} == {
        api: [module] for api, module in PRIVATE_APIS.items()}
