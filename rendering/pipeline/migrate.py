"""MotionText scenario 1.3 → 2.0 migration (the editor's render request still sends 1.3).

Field mapping (MOTIONTEXT.md): e_type → eType; cue hintTime {start, end} → domLifetime; node
absStart/absEnd → displayTime; plugin relStart/relEnd and t0/t1 (seconds) and relStartPct/relEndPct
(fractions → "N%") → timeOffset; definitions → define (and "definitions.x" references → "define.x");
a node's single `plugin` is prepended to its pluginChain; nodes without an id get `<cue id>-n<index
path>` (root "n0", its second child "n0-1", ...). Anything else 1.3-only is a problem naming its path.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from .errors import ScenarioInvalid

# 1.3 keys that have no 2.0 meaning in motiontext-renderer 1.5.0; dropping them would change output.
_UNMAPPABLE_TOP = ("wordStream", "bindings")


def _problem(path: str, code: str, message: str) -> dict[str, str]:
    return {"path": path, "code": code, "message": message}


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _pct(fraction: float) -> str:
    value = round(fraction * 100, 6)
    text = f"{value:f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return f"{text}%"


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("definitions."):
        return "define." + value[len("definitions.") :]
    if isinstance(value, dict):
        return {k: _rewrite_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


class _Migrator:
    def __init__(self) -> None:
        self.problems: list[dict[str, str]] = []
        self.used_ids: set[str] = set()

    def collect_ids(self, node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), str):
                self.used_ids.add(node["id"])
            for child in node.get("children") or []:
                self.collect_ids(child)

    def fresh_id(self, wanted: str) -> str:
        candidate, n = wanted, 2
        while candidate in self.used_ids:
            candidate, n = f"{wanted}~{n}", n + 1
        self.used_ids.add(candidate)
        return candidate

    def plugin(self, spec: Any, path: str) -> Any:
        if not isinstance(spec, dict):
            return spec
        spec = dict(spec)
        params = spec.get("params")
        if (
            isinstance(params, dict)
            and ("t0" in params or "t1" in params)
            and not any(k in spec for k in ("t0", "t1", "relStart", "relEnd", "relStartPct", "relEndPct", "timeOffset"))
        ):
            # Some 1.3 editors put the window inside params (README's cwi-* examples).
            params = dict(params)
            spec["t0"], spec["t1"] = params.pop("t0", None), params.pop("t1", None)
            spec["params"] = params
        start: Any = None
        end: Any = None
        for key, side, pct in (
            ("relStart", "start", False),
            ("t0", "start", False),
            ("relStartPct", "start", True),
            ("relEnd", "end", False),
            ("t1", "end", False),
            ("relEndPct", "end", True),
        ):
            if key not in spec:
                continue
            raw = spec.pop(key)
            if raw is None:
                continue
            if not _num(raw):
                self.problems.append(_problem(f"{path}.{key}", "unmappable", f"{key} must be a finite number"))
                continue
            value = _pct(raw) if pct else raw
            # 1.3: t = abs + (relStart ?? D*relStartPct): the seconds form wins over the fraction.
            if side == "start" and start is None:
                start = value
            elif side == "end" and end is None:
                end = value
        if start is not None or end is not None:
            if "timeOffset" in spec:
                self.problems.append(
                    _problem(f"{path}.timeOffset", "unmappable", "both timeOffset and 1.3 relative offsets are set")
                )
            else:
                spec["timeOffset"] = [start if start is not None else "0%", end if end is not None else "0%"]
        return spec

    def node(self, node: Any, path: str, cue_id: str, index_path: str) -> Any:
        if not isinstance(node, dict):
            self.problems.append(_problem(path, "type", "node must be an object"))
            return node
        out = dict(node)
        if "e_type" in out:
            etype = out.pop("e_type")
            if "eType" in out and out["eType"] != etype:
                self.problems.append(_problem(f"{path}.e_type", "unmappable", "e_type and eType disagree"))
            else:
                out["eType"] = etype
        if not isinstance(out.get("id"), str) or not out.get("id"):
            out["id"] = self.fresh_id(f"{cue_id}-n{index_path}")
        if "absStart" in out or "absEnd" in out:
            a, b = out.pop("absStart", None), out.pop("absEnd", None)
            if "displayTime" in out:
                self.problems.append(
                    _problem(f"{path}.absStart", "unmappable", "both displayTime and absStart/absEnd are set")
                )
            elif _num(a) and _num(b):
                out["displayTime"] = [a, b]
            else:
                which = "absStart" if not _num(a) else "absEnd"
                self.problems.append(
                    _problem(f"{path}.{which}", "unmappable", "absStart and absEnd must both be finite numbers")
                )
        if "base_time" in out:
            out["baseTime"] = out.pop("base_time")
        chain = out.get("pluginChain")
        if "plugin" in out:
            single = out.pop("plugin")
            chain = [single, *(chain if isinstance(chain, list) else [])]
        if isinstance(chain, list):
            out["pluginChain"] = [self.plugin(spec, f"{path}.pluginChain[{i}]") for i, spec in enumerate(chain)]
        elif chain is not None:
            self.problems.append(_problem(f"{path}.pluginChain", "type", "pluginChain must be an array"))
        children = out.get("children")
        if isinstance(children, list):
            out["children"] = [
                self.node(child, f"{path}.children[{i}]", cue_id, f"{index_path}-{i}")
                for i, child in enumerate(children)
            ]
        return out

    def cue(self, cue: Any, path: str, index: int) -> Any:
        if not isinstance(cue, dict):
            self.problems.append(_problem(path, "type", "cue must be an object"))
            return cue
        out = dict(cue)
        if not isinstance(out.get("id"), str) or not out.get("id"):
            out["id"] = self.fresh_id(f"cue-{index}")
        if "hintTime" in out:
            hint = out.pop("hintTime")
            if isinstance(hint, dict) and _num(hint.get("start")) and _num(hint.get("end")):
                if "domLifetime" in out:
                    self.problems.append(
                        _problem(f"{path}.hintTime", "unmappable", "both hintTime and domLifetime are set")
                    )
                else:
                    out["domLifetime"] = [hint["start"], hint["end"]]
            elif isinstance(hint, dict) and not hint:
                pass  # an empty hint carries nothing
            else:
                self.problems.append(
                    _problem(f"{path}.hintTime", "unmappable", "hintTime must be {start, end} with finite numbers")
                )
        if "root" in out:
            out["root"] = self.node(out["root"], f"{path}.root", out["id"], "0")
        return out


def migrate_with_problems(data: dict) -> tuple[dict, list[dict[str, str]]]:
    """Migrate a 1.3 scenario; return the 2.0 scenario and the list of unmappable parts."""
    m = _Migrator()
    src = _rewrite_refs(copy.deepcopy(data))
    out: dict[str, Any] = {}
    for key, value in src.items():
        if key in ("version", "definitions"):
            continue
        out[key] = value
    out["version"] = "2.0"
    out["pluginApiVersion"] = "3.0"
    if "definitions" in src:
        if "define" in src:
            m.problems.append(_problem("definitions", "unmappable", "both definitions and define are set"))
        else:
            out["define"] = src["definitions"]
    for key in _UNMAPPABLE_TOP:
        if key in src:
            m.problems.append(
                _problem(key, "unmappable", f"1.3 {key} has no 2.0 equivalent; expand it into cues before rendering")
            )
            out.pop(key, None)
    tb = out.get("timebase")
    if isinstance(tb, dict) and tb.get("unit") == "tc":
        m.problems.append(_problem("timebase.unit", "unmappable", 'timecode ("tc") timebases are not supported'))
    cues = src.get("cues")
    if isinstance(cues, list):
        for cue in cues:
            if isinstance(cue, dict):
                m.collect_ids(cue.get("root"))
                if isinstance(cue.get("id"), str):
                    m.used_ids.add(cue["id"])
        out["cues"] = [m.cue(c, f"cues[{i}]", i) for i, c in enumerate(cues)]
    return out, m.problems


def migrate_v13(data: dict) -> dict:
    """Migrate a 1.3 scenario to 2.0; raise ScenarioInvalid naming every part that cannot be mapped."""
    if not isinstance(data, dict):
        raise ScenarioInvalid([_problem("", "type", "scenario must be a JSON object")])
    if data.get("version") != "1.3":
        raise ScenarioInvalid([_problem("version", "unsupported_version", 'expected version "1.3"')])
    out, problems = migrate_with_problems(data)
    if problems:
        raise ScenarioInvalid(problems)
    return out
