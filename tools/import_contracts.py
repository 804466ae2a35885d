"""An import-linter contract type: no import cycle between any modules of a package.

import-linter's own ``acyclic_siblings`` looks at packages side by side; this one looks
at every module, so a cycle inside one folder (two modules of a context importing each
other, or a blueprint package and its views) breaks it too. grimp counts the imports
written inside functions as well as those at the top of a file.

Declared in ``pyproject.toml``::

    [tool.importlinter]
    contract_types = ["acyclic_modules: tools.import_contracts.AcyclicModulesContract"]

    [[tool.importlinter.contracts]]
    type = "acyclic_modules"
    containers = ["webapp"]
"""

from __future__ import annotations

from collections import deque

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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


def shortest_cycle(start: str, members: set[str], edges: dict[str, list[str]]) -> list[str]:
    """One shortest way from ``start`` back to itself inside a component."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in edges[node]:
            if child not in members:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return list(reversed(path)) + [start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [start]


class AcyclicModulesContract(Contract):
    """No module of the containers reaches itself again through its imports."""

    type_name = "acyclic_modules"
    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        prefixes = tuple(self.containers)  # type: ignore[arg-type]
        below = tuple(prefix + "." for prefix in prefixes)
        inside = sorted(m for m in graph.modules if m in prefixes or m.startswith(below))
        chosen = set(inside)
        edges = {
            m: sorted(n for n in graph.find_modules_directly_imported_by(m) if n in chosen)
            for m in inside
        }
        cycles = [
            shortest_cycle(component[0], set(component), edges)
            for component in strongly_connected(inside, edges)
        ]
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("- " + " -> ".join(cycle), bold=False)
