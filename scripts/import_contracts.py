"""A contract type for import-linter (pyproject.toml [tool.importlinter]): apps import what they use.

The layers contract sees import statements only. An app can still reach another one without
an import: `apps.get_model("events", "Email")`, `Project._meta.get_field("events").related_model`,
or `import_module("billing.schedules")`. Such a dependency is invisible to the contracts, so it
may point up the layers unnoticed. This contract reads every module of the root packages (not
their migrations, where `apps.get_model` is how RunPython gets the historical models) and reports
each of these that names a model or module of another root package; for `related_model` reached
through `_meta.get_field(...)` the target cannot be told statically, so every use is reported:
import the model instead, or move the code to a layer that may.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck

IMPORTERS = {"import_module", "import_string", "__import__"}


@dataclass(frozen=True)
class Reach:
    module: str
    line: int
    what: str


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def reaches(module: str, source: str, packages: set[str]) -> list[Reach]:
    """Where `module` (its source given) reaches another of `packages` without importing it."""
    own = module.split(".")[0]
    found: list[Reach] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _called_name(node)
            target = _literal(node.args[0]) if node.args else None
            if target is None:
                continue
            package = target.split(".")[0]
            if package not in packages or package == own:
                continue
            if name == "get_model":
                found.append(Reach(module, node.lineno, f"{ast.unparse(node)} reaches a model of {package}"))
            elif name in IMPORTERS:
                found.append(Reach(module, node.lineno, f"{ast.unparse(node)} imports {package} by name"))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "related_model"
            and isinstance(node.value, ast.Call)
            and _called_name(node.value) == "get_field"
        ):
            found.append(Reach(module, node.lineno, f"{ast.unparse(node)} reaches a model without importing it"))
    return found


class NoRegistryReachContract(Contract):
    type_name = "no_registry_reach"

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        packages = set(self.session_options["root_packages"])
        found: list[Reach] = []
        for package in sorted(packages):
            for module in sorted(graph.find_descendants(package) | {package}):
                if ".migrations" in module:
                    continue
                spec = importlib.util.find_spec(module)
                if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
                    continue
                found += reaches(module, Path(spec.origin).read_text(encoding="utf-8"), packages)
        return ContractCheck(kept=not found, metadata={"reaches": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        reaches: list[Any] = check.metadata["reaches"]
        for reach in reaches:
            output.print_error(f"{reach.module}:{reach.line}: {reach.what}", bold=False)
            output.new_line()
