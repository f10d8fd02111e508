"""Safe edits: apply the model's RFC 6902 patches to the scenario the editor sent, keep only those that apply.

The model proposes; this module decides. Each operation must be ``add``, ``replace`` or ``remove`` (the ops
the editor applies), must stay inside the caption content (cues, define, track styles), must apply to the
document as it stands after the operations before it, and must not make the scenario invalid: the result is
checked with the renderer's scenario validator (only problems the sent scenario did not already have count,
since a selection-compressed or editor-made scenario may carry its own) and every plugin entry an operation
writes is checked against the catalogue of animations. Plugin entries are repaired where the intent is
clear (bare names get their version, unknown parameters are dropped, numbers are clamped to the manifest's
range, missing parameters get their defaults, a missing window gets the manifest's default); a missing
``style``/``pluginChain`` parent is created. What cannot be repaired is refused with a reason, and the
operations returned are exactly those whose application, in order, gives the validated result.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jsonpatch
import jsonpointer

from assistant.catalogue import Catalogue, check_params
from rendering.pipeline.errors import ScenarioInvalid
from rendering.pipeline.scenario import validate_scenario

OPS = ("add", "replace", "remove")
MAX_OPS = 2000
# Writable areas: the captions themselves, shared definitions and the tracks' default looks. Versions,
# the timebase and the stage belong to the editor.
_WRITABLE = re.compile(r"^/(cues/\d+(/.*)?|cues/-|define(/.*)?|tracks/\d+/(defaultStyle|defaultBoxStyle)(/.*)?)$")
_CHAIN_TAIL = re.compile(r"/pluginChain(?:/(\d+|-)(/.*)?)?$")
_CONTAINER_OF = re.compile(r"^(?P<node>.*)/(?P<key>style|boxStyle|layout|pluginChain)/[^/]+$")


@dataclass
class Rejected:
    op: dict[str, Any]
    reason: str


@dataclass
class EditResult:
    """What survived: the operations to send back, the resulting scenario and what was refused and why."""

    patches: list[dict[str, Any]] = field(default_factory=list)
    scenario: dict[str, Any] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    repaired: int = 0


class _Refuse(Exception):
    pass


def _problems(scenario: dict) -> list[dict[str, Any]]:
    try:
        validate_scenario(scenario)
    except ScenarioInvalid as exc:
        return list(exc.problems)
    return []


def _key(problem: dict) -> tuple[str, str]:
    return str(problem.get("path", "")), str(problem.get("code", ""))


def _new_problems(after: list[dict], before: list[dict]) -> list[dict]:
    """Problems the edits introduced. Paths shift when an edit removes or inserts a node, so a problem
    counts as new only when its code occurs more often than before (those at unseen paths first)."""
    budget = Counter(str(p.get("code", "")) for p in before)
    seen = {_key(p) for p in before}
    out: list[dict] = []
    for p in sorted(after, key=lambda p: _key(p) in seen):
        code = str(p.get("code", ""))
        if budget[code] > 0:
            budget[code] -= 1
        else:
            out.append(p)
    return out


def _dotted_to_pointer(path: str) -> str:
    """``cues[0].root.children[2].name`` -> ``/cues/0/root/children/2/name`` (the validator's paths)."""
    if not path:
        return ""
    parts: list[str] = []
    for piece in path.split("."):
        m = re.match(r"^([^\[]*)((?:\[\d+\])*)$", piece)
        if not m:
            parts.append(piece)
            continue
        if m.group(1):
            parts.append(m.group(1))
        parts.extend(re.findall(r"\[(\d+)\]", m.group(2)))
    return "/" + "/".join(parts)


def _related(a: str, b: str) -> bool:
    """One pointer is the other or contains it."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or a == "" or b == ""


def _normalize(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Refuse("an operation must be an object")
    op, path = raw.get("op"), raw.get("path")
    if op not in OPS:
        raise _Refuse(f"op must be one of {', '.join(OPS)}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise _Refuse("path must be a JSON pointer starting with /")
    if not _WRITABLE.match(path):
        raise _Refuse("only cues, define and track default styles may be edited")
    out = {"op": op, "path": path}
    if op != "remove":
        if "value" not in raw:
            raise _Refuse(f"{op} needs a value")
        out["value"] = copy.deepcopy(raw["value"])
    return out


def _resolve(doc: Any, pointer: str) -> Any:
    return jsonpointer.resolve_pointer(doc, pointer)


def _exists(doc: Any, pointer: str) -> bool:
    try:
        _resolve(doc, pointer)
    except jsonpointer.JsonPointerException:
        return False
    return True


class _Repairer:
    """Checks and repairs plugin entries against the catalogue; entries the editor already had pass as is."""

    def __init__(self, original: dict, catalogue: Catalogue):
        self.original = original
        self.catalogue = catalogue
        self.count = 0

    def _known(self, chain_pointer: str, entry: Any) -> bool:
        try:
            before = _resolve(self.original, chain_pointer)
        except jsonpointer.JsonPointerException:
            return False
        return isinstance(before, list) and entry in before

    def entry(self, entry: Any, chain_pointer: str) -> dict:
        if self._known(chain_pointer, entry):
            return entry
        if isinstance(entry, str):  # a bare key is a clear enough request for that animation
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise _Refuse("a plugin entry must be an object with name and params")
        animation = self.catalogue.resolve(entry.get("name"))
        if animation is None:
            raise _Refuse(f"unknown animation {entry.get('name')!r}")
        fixed = dict(entry)
        if fixed.get("name") != animation.key:
            fixed["name"] = animation.key
        params, problems = check_params(animation, entry.get("params"))
        if problems:
            raise _Refuse(f"{animation.key}: " + "; ".join(problems))
        fixed["params"] = {**animation.defaults(), **params}
        if "timeOffset" not in fixed and animation.default_offset is not None:
            fixed["timeOffset"] = list(animation.default_offset)
        if fixed != entry:
            self.count += 1
        return fixed

    def chain(self, chain: Any, chain_pointer: str) -> list:
        if not isinstance(chain, list):
            raise _Refuse("pluginChain must be an array")
        return [self.entry(e, chain_pointer) for e in chain]

    def nodes(self, value: Any, pointer: str) -> Any:
        """Repair every plugin chain inside a value that holds nodes (a node, a cue, children)."""
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                sub = f"{pointer}/{k}"
                out[k] = self.chain(v, sub) if k == "pluginChain" else self.nodes(v, sub)
            return out
        if isinstance(value, list):
            return [self.nodes(v, f"{pointer}/{i}") for i, v in enumerate(value)]
        return value

    def op(self, op: dict, doc: dict) -> dict:
        """The operation with its value repaired for the document as it stands."""
        if op["op"] == "remove":
            return op
        path, value = op["path"], op["value"]
        m = _CHAIN_TAIL.search(path)
        if m is None:
            if path.startswith("/define"):
                return op
            return {**op, "value": self.nodes(value, path)}
        chain_pointer = path[: m.start()] + "/pluginChain"
        index, rest = m.group(1), m.group(2)
        if index is None:
            return {**op, "value": self.chain(value, chain_pointer)}
        if not rest:
            return {**op, "value": self.entry(value, chain_pointer)}
        # inside one entry: check against the entry's animation
        entry_pointer = f"{chain_pointer}/{index}"
        try:
            entry = _resolve(doc, entry_pointer)
        except jsonpointer.JsonPointerException as exc:
            raise _Refuse("the plugin entry does not exist") from exc
        updated = jsonpatch.apply_patch(entry, [{**op, "path": rest}])
        fixed = self.entry(updated, chain_pointer)
        if fixed == updated:
            return op
        self.count += 1
        return {"op": "replace", "path": entry_pointer, "value": fixed}


def _with_parents(op: dict, doc: dict) -> list[dict]:
    """``add /…/style/color`` on a node without ``style`` first adds ``style: {}`` (likewise pluginChain)."""
    if op["op"] != "add":
        return [op]
    m = _CONTAINER_OF.match(op["path"])
    if not m or not _exists(doc, m.group("node")) or _exists(doc, f"{m.group('node')}/{m.group('key')}"):
        return [op]
    if not isinstance(_resolve(doc, m.group("node")), dict):
        return [op]
    empty: Any = [] if m.group("key") == "pluginChain" else {}
    return [{"op": "add", "path": f"{m.group('node')}/{m.group('key')}", "value": empty}, op]


def _concrete(op: dict, doc: dict) -> dict:
    """Replace a trailing ``-`` by the index it will land at, so later checks can name the new element."""
    if op["path"].endswith("/-"):
        parent = op["path"][:-2]
        try:
            target = _resolve(doc, parent)
        except jsonpointer.JsonPointerException:
            return op
        if isinstance(target, list):
            return {**op, "path": f"{parent}/{len(target)}"}
    return op


def _inverse(op: dict, doc: Any) -> dict:
    """The operation that undoes ``op`` on ``doc`` as it is now (``op`` has a concrete path)."""
    path = op["path"]
    if op["op"] == "add":
        parent_path, _, key = path.rpartition("/")
        parent = _resolve(doc, parent_path)
        if isinstance(parent, dict) and jsonpointer.unescape(key) in parent:
            return {"op": "replace", "path": path, "value": copy.deepcopy(parent[jsonpointer.unescape(key)])}
        return {"op": "remove", "path": path}
    old = copy.deepcopy(_resolve(doc, path))
    return {"op": "replace" if op["op"] == "replace" else "add", "path": path, "value": old}


def _apply_all(doc: Any, ops: list[dict]) -> None:
    """Apply ``ops`` in place, all or none (undone in reverse order when one fails).

    Values are copied in, so a later operation that edits inside an added value never changes what an
    earlier returned operation says.
    """
    undo: list[dict] = []
    try:
        for o in ops:
            inverse = _inverse(o, doc)
            jsonpatch.apply_patch(doc, [copy.deepcopy(o)], in_place=True)
            undo.append(inverse)
    except Exception:
        for inverse in reversed(undo):
            jsonpatch.apply_patch(doc, [inverse], in_place=True)
        raise


def apply_edits(scenario: dict, raw_ops: Any, catalogue: Catalogue | None = None) -> EditResult:
    """Apply what can be applied of ``raw_ops`` to ``scenario`` (not modified); see the module docstring."""
    result = EditResult(scenario=scenario)
    if not isinstance(raw_ops, list) or not isinstance(scenario, dict):
        return result
    catalogue = catalogue or Catalogue.load()
    baseline = _problems(scenario)
    candidates: list[tuple[int, dict]] = []
    for i, raw in enumerate(raw_ops[:MAX_OPS]):
        try:
            candidates.append((i, _normalize(raw)))
        except _Refuse as exc:
            result.rejected.append(Rejected(raw if isinstance(raw, dict) else {"op": raw}, str(exc)))
    for raw in raw_ops[MAX_OPS:]:
        result.rejected.append(Rejected(raw if isinstance(raw, dict) else {"op": raw}, "too many operations"))

    # Apply in order; when the validator finds new problems, drop the operations that caused them and
    # start again (each round removes at least one operation, so this ends).
    invalid: list[Rejected] = []
    while True:
        repairer = _Repairer(scenario, catalogue)
        doc = copy.deepcopy(scenario)
        applied: list[tuple[int, dict]] = []
        refused: list[Rejected] = []
        for index, op in candidates:
            try:
                expanded = [_concrete(o, doc) for o in _with_parents(op, doc)]
                expanded = [repairer.op(o, doc) for o in expanded]
                _apply_all(doc, expanded)
                applied.extend((index, o) for o in expanded)
            except _Refuse as exc:
                refused.append(Rejected(op, str(exc)))
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                refused.append(Rejected(op, f"does not apply: {exc}"))
        new = _new_problems(_problems(doc), baseline)
        if not new:
            break
        guilty: set[int] = set()
        for problem in new:
            pointer = _dotted_to_pointer(str(problem.get("path", "")))
            guilty |= {i for i, o in applied if _related(o["path"], pointer)}
        if not guilty:  # a problem no single path explains (e.g. a duplicate id elsewhere): drop the last
            guilty = {applied[-1][0]} if applied else set()
        if not guilty:
            break
        messages = "; ".join(f"{p.get('path')}: {p.get('message')}" for p in new[:3])
        by_index = dict(candidates)
        invalid.extend(Rejected(by_index[i], f"makes the scenario invalid ({messages})") for i in sorted(guilty))
        candidates = [(i, o) for i, o in candidates if i not in guilty]
    result.rejected.extend(invalid + refused)
    result.patches = [o for _, o in applied]
    result.scenario = doc
    result.repaired = repairer.count
    return result
