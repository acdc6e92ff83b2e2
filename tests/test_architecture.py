"""The package's shape (issue 28): floors that import only downwards, and no import circles.

Read from the source with ast (every import, also those inside functions), so a new module or a
lazy import that runs back up fails here in a second, without running anything.
"""
import ast
from pathlib import Path

from autograder.settings import REPO_ROOT

# Lowest first: a module may import its own floor and the floors below it.
FLOORS = ["settings", "authoring", "judging", "grading", "lab", "bench"]
PACKAGES = ("autograder", "coursekit")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict) -> set[str]:
    """The package modules ``name`` imports (``from a import b`` counts as a.b when b is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return {m for m in found if m in known and m != name}


def floor(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "autograder" or len(parts) == 1:
        return -1  # coursekit and the package's own __init__: beneath every floor
    return FLOORS.index(parts[1])


GRAPH = {name: imports(name, path, modules()) for name, path in modules().items()}


def test_every_module_sits_on_a_floor():
    strays = [m for m in GRAPH if m.startswith("autograder.") and m.split(".")[1] not in FLOORS]
    assert not strays, f"modules outside the floors {FLOORS}: {strays} (add them to a subpackage)"


def test_no_upward_imports():
    upward = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() for d in deps
                    if m.startswith("autograder.") and floor(d) > floor(m))
    # coursekit runs in the student's kernel: it may reach the grader only to run `make check` (selfcheck)
    upward += sorted(f"{m} -> {d}" for m, deps in GRAPH.items() for d in deps
                     if m.startswith("coursekit") and d.startswith("autograder") and m != "coursekit.selfcheck")
    assert not upward, "imports that run back up:\n" + "\n".join(upward)


def test_no_import_circles():
    circles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == "open":
                circles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, path + [dep])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_check_sees_what_it_claims():
    # the reader itself: known edges of the package must be found, or the tests above prove nothing
    assert "autograder.judging.judge" in GRAPH["autograder.judging.executor"]
    assert "autograder.grading.nbgrader_config" in GRAPH["autograder.grading.worker"]
    assert floor("autograder.grading.batch") > floor("autograder.judging.sandbox") > floor("autograder.settings")
