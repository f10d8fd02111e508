"""MotionText scenario validation (2.0), plugin listing and the time plan derived from a scenario.

`validate_scenario` accepts 2.0 or 1.3 (migrated first) and reports every problem with its path, so
the API can answer with the full list and the renderer never meets a scenario the library rejects.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import ScenarioInvalid
from .migrate import migrate_with_problems

ETYPES = ("group", "text", "image", "video")
TRACK_TYPES = ("subtitle", "free")
ASPECTS = ("16:9", "9:16", "auto")
COMPOSE = ("replace", "add", "multiply")
PLUGIN_NAME_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,99})@(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$"
)
# The editor registers every plugin under its bare name too, and a bare name means this version.
BARE_PLUGIN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
DEFAULT_PLUGIN_VERSION = "2.0.0"
OFFSET_RE = re.compile(r"^\s*-?\d+(?:\.\d+)?%?\s*$")
# Size bounds (docs/LIMITS.md): a 3-hour talk with word-level captions is ~30,000 words in ~5,000 cues.
MAX_CUES = 10_000
MAX_NODES = 100_000
MAX_DEPTH = 24  # group nesting below a cue root (JSON bodies themselves stop at MAX_JSON_DEPTH 64)
MAX_TEXT_LENGTH = 2_000  # characters in one text node
MAX_PLUGINS_PER_NODE = 16
# Against the source's length (checked at render create, when the duration is known).
CUES_PER_SECOND = 10
NODES_PER_SECOND = 100
BASE_ALLOWANCE = 100  # cues (x10 for nodes) allowed whatever the duration


class _Checker:
    def __init__(self, scenario: dict[str, Any]):
        self.s = scenario
        self.problems: list[dict[str, Any]] = []
        self.define = scenario.get("define") if isinstance(scenario.get("define"), dict) else {}
        self.ids: dict[str, str] = {}
        self.nodes = 0

    def add(self, path: str, code: str, message: str) -> None:
        self.problems.append({"path": path, "code": code, "message": message})

    # -- define references ------------------------------------------------------------------------
    def resolve(self, value: Any, path: str, _seen: tuple[str, ...] = ()) -> tuple[bool, Any]:
        """Resolve a "define.a.b" reference; (False, None) after reporting when it cannot be."""
        if not (isinstance(value, str) and value.startswith("define.")):
            return True, value
        if value in _seen:
            self.add(path, "define_cycle", f"circular define reference: {' -> '.join((*_seen, value))}")
            return False, None
        parts = value[len("define.") :].split(".")
        cur: Any = self.define
        for part in parts:
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                self.add(path, "define_unresolved", f"{value!r} does not name a value in define")
                return False, None
        return self.resolve(cur, path, (*_seen, value))

    # -- scalar helpers ----------------------------------------------------------------------------
    @staticmethod
    def is_number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    def time_range(self, value: Any, path: str) -> tuple[float, float] | None:
        ok, v = self.resolve(value, path)
        if not ok:
            return None
        if not isinstance(v, list | tuple) or len(v) != 2:
            self.add(path, "invalid_time_range", "must be [start, end] (two numbers, seconds)")
            return None
        bad = False
        for i, x in enumerate(v):
            if not self.is_number(x):
                self.add(f"{path}[{i}]", "type", "must be a number (seconds)")
                bad = True
            elif not math.isfinite(x):
                self.add(f"{path}[{i}]", "not_finite", "must be a finite number")
                bad = True
        if bad:
            return None
        start, end = float(v[0]), float(v[1])
        if start > end:
            self.add(path, "time_order", f"start ({start}) is after end ({end})")
            return None
        return start, end

    # -- top level ---------------------------------------------------------------------------------
    def check(self) -> None:
        s = self.s
        if s.get("version") != "2.0":
            self.add("version", "unsupported_version", 'version must be "2.0" or "1.3"')
        if "pluginApiVersion" in s and not (
            isinstance(s["pluginApiVersion"], str) and s["pluginApiVersion"].split(".")[0] == "3"
        ):
            self.add("pluginApiVersion", "invalid_value", 'pluginApiVersion must be "3.0"')
        if "define" in s and not isinstance(s["define"], dict):
            self.add("define", "type", "define must be an object")
        tb = s.get("timebase")
        if not isinstance(tb, dict):
            self.add("timebase", "required", "timebase is required (an object)")
        else:
            if tb.get("unit") != "seconds":
                self.add("timebase.unit", "invalid_value", 'timebase.unit must be "seconds"')
            if "fps" in tb and not (self.is_number(tb["fps"]) and math.isfinite(tb["fps"]) and tb["fps"] > 0):
                self.add("timebase.fps", "invalid_value", "timebase.fps must be a positive number")
        stage = s.get("stage")
        if not isinstance(stage, dict):
            self.add("stage", "required", "stage is required (an object)")
        elif stage.get("baseAspect") not in ASPECTS:
            self.add("stage.baseAspect", "invalid_value", f"stage.baseAspect must be one of {', '.join(ASPECTS)}")

        track_ids: set[str] = set()
        tracks = s.get("tracks")
        if not isinstance(tracks, list):
            self.add("tracks", "required", "tracks must be an array")
            tracks = []
        for i, t in enumerate(tracks):
            p = f"tracks[{i}]"
            if not isinstance(t, dict):
                self.add(p, "type", "track must be an object")
                continue
            tid = t.get("id")
            if not isinstance(tid, str) or not tid:
                self.add(f"{p}.id", "required", "track id must be a non-empty string")
            elif tid in track_ids:
                self.add(f"{p}.id", "duplicate_id", f"duplicate track id {tid!r}")
            else:
                track_ids.add(tid)
            if t.get("type") not in TRACK_TYPES:
                self.add(f"{p}.type", "invalid_value", f"track type must be one of {', '.join(TRACK_TYPES)}")
            if "layer" in t and not (self.is_number(t["layer"]) and math.isfinite(t["layer"])):
                self.add(f"{p}.layer", "type", "layer must be a number")
            for key in ("defaultStyle", "defaultBoxStyle", "defaultConstraints", "safeArea"):
                if key in t and not isinstance(t[key], dict):
                    self.add(f"{p}.{key}", "type", f"{key} must be an object")

        cues = s.get("cues")
        if not isinstance(cues, list):
            self.add("cues", "required", "cues must be an array")
            cues = []
        if len(cues) > MAX_CUES:
            self.add("cues", "too_many_cues", f"{len(cues)} cues; at most {MAX_CUES} are accepted")
            return
        for i, cue in enumerate(cues):
            self.check_cue(cue, f"cues[{i}]", track_ids)

    def check_cue(self, cue: Any, p: str, track_ids: set[str]) -> None:
        if not isinstance(cue, dict):
            self.add(p, "type", "cue must be an object")
            return
        cid = cue.get("id")
        if not isinstance(cid, str) or not cid:
            self.add(f"{p}.id", "required", "cue id must be a non-empty string")
        else:
            self.claim_id(cid, f"{p}.id")
        track = cue.get("track")
        if not isinstance(track, str) or not track:
            self.add(f"{p}.track", "required", "cue track must name a track")
        elif track not in track_ids:
            self.add(f"{p}.track", "unknown_track", f"unknown track id {track!r}")
        if "domLifetime" in cue:
            self.time_range(cue["domLifetime"], f"{p}.domLifetime")
        inherited = None
        if "displayTime" in cue:
            inherited = self.time_range(cue["displayTime"], f"{p}.displayTime")
        root = cue.get("root")
        if root is None:
            self.add(f"{p}.root", "required", "cue root node is required")
        else:
            self.check_node(root, f"{p}.root", inherited, 0)

    def claim_id(self, node_id: str, path: str) -> None:
        if node_id in self.ids:
            self.add(path, "duplicate_id", f"id {node_id!r} is already used at {self.ids[node_id]}")
        else:
            self.ids[node_id] = path

    def check_node(self, node: Any, p: str, inherited: tuple[float, float] | None, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.add(p, "too_large", f"more than {MAX_NODES} nodes")
            return
        if depth > MAX_DEPTH:
            self.add(p, "too_deep", f"nodes nested deeper than {MAX_DEPTH}")
            return
        if not isinstance(node, dict):
            self.add(p, "type", "node must be an object")
            return
        nid = node.get("id")
        if not isinstance(nid, str) or not nid:
            self.add(f"{p}.id", "required", "node id must be a non-empty string")
        else:
            self.claim_id(nid, f"{p}.id")
        etype = node.get("eType")
        if etype not in ETYPES:
            self.add(f"{p}.eType", "invalid_etype", f"eType must be one of {', '.join(ETYPES)}")
        display = inherited
        if "displayTime" in node:
            display = self.time_range(node["displayTime"], f"{p}.displayTime") or inherited
        base = None
        if "baseTime" in node:
            base = self.time_range(node["baseTime"], f"{p}.baseTime")
        if etype == "text" and "text" in node and not isinstance(node["text"], str | int | float):
            self.add(f"{p}.text", "type", "text must be a string")
        elif etype == "text" and isinstance(node.get("text"), str) and len(node["text"]) > MAX_TEXT_LENGTH:
            self.add(f"{p}.text", "text_too_long", f"text longer than {MAX_TEXT_LENGTH} characters")
        if etype in ("image", "video") and not isinstance(node.get("src", ""), str):
            self.add(f"{p}.src", "type", "src must be a string")
        for key in ("layout", "style", "boxStyle"):
            if key in node:
                ok, v = self.resolve(node[key], f"{p}.{key}")
                if ok and not isinstance(v, dict):
                    self.add(f"{p}.{key}", "type", f"{key} must be an object")
        self.check_defines_in(node.get("layout"), f"{p}.layout")
        self.check_defines_in(node.get("style"), f"{p}.style")
        if isinstance(node.get("pluginChain"), list) and len(node["pluginChain"]) > MAX_PLUGINS_PER_NODE:
            self.add(f"{p}.pluginChain", "too_many_plugins", f"more than {MAX_PLUGINS_PER_NODE} plugins on one node")
        elif "pluginChain" in node:
            self.check_chain(node["pluginChain"], f"{p}.pluginChain", base or display, node)
        children = node.get("children")
        if children is not None:
            if not isinstance(children, list):
                self.add(f"{p}.children", "type", "children must be an array")
            elif etype != "group" and children:
                self.add(f"{p}.children", "invalid_value", "only group nodes can have children")
            else:
                for i, child in enumerate(children):
                    self.check_node(child, f"{p}.children[{i}]", display, depth + 1)

    def check_defines_in(self, value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self.check_defines_in(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.check_defines_in(v, f"{path}[{i}]")
        elif isinstance(value, str) and value.startswith("define."):
            self.resolve(value, path)

    def check_chain(self, chain: Any, p: str, window: tuple[float, float] | None, node: dict) -> None:
        if not isinstance(chain, list):
            self.add(p, "type", "pluginChain must be an array")
            return
        for i, spec in enumerate(chain):
            sp = f"{p}[{i}]"
            if not isinstance(spec, dict):
                self.add(sp, "type", "plugin entry must be an object")
                continue
            ok, name = self.resolve(spec.get("name"), f"{sp}.name")
            if ok and not (isinstance(name, str) and (PLUGIN_NAME_RE.match(name) or BARE_PLUGIN_NAME_RE.match(name))):
                self.add(
                    f"{sp}.name", "invalid_plugin_name",
                    'plugin name must be "<name>@<semver>" (or a bare name, meaning @2.0.0), e.g. "fadein@2.0.0"',
                )
            if "params" in spec:
                ok, params = self.resolve(spec["params"], f"{sp}.params")
                if ok and not isinstance(params, dict):
                    self.add(f"{sp}.params", "type", "params must be an object")
                elif ok:
                    self.check_defines_in(params, f"{sp}.params")
            if "compose" in spec and spec["compose"] not in COMPOSE:
                self.add(f"{sp}.compose", "invalid_value", f"compose must be one of {', '.join(COMPOSE)}")
            if "type" in spec and spec["type"] not in ("channel", "dom", "hybrid"):
                self.add(f"{sp}.type", "invalid_value", "type must be channel, dom or hybrid")
            base = window
            if "baseTime" in spec:
                base = self.time_range(spec["baseTime"], f"{sp}.baseTime")
            if "timeOffset" in spec:
                self.check_offset(spec["timeOffset"], f"{sp}.timeOffset")
            if base is None and "baseTime" not in spec:
                self.add(
                    sp,
                    "missing_time",
                    "plugin needs a finite time window: give the node baseTime or displayTime (or the entry baseTime)",
                )

    def check_offset(self, value: Any, path: str) -> None:
        ok, v = self.resolve(value, path)
        if not ok:
            return
        if not isinstance(v, list | tuple) or len(v) != 2:
            self.add(path, "invalid_time_offset", "timeOffset must be [start, end]")
            return
        for k, x in enumerate(v):
            okx, x = self.resolve(x, f"{path}[{k}]")
            if not okx:
                continue
            if self.is_number(x):
                if not math.isfinite(x):
                    self.add(f"{path}[{k}]", "not_finite", "offset must be a finite number")
            elif not (isinstance(x, str) and OFFSET_RE.match(x)):
                self.add(
                    f"{path}[{k}]",
                    "invalid_time_offset",
                    'offset must be seconds (number) or a percent string like "50%"',
                )


def validate_scenario(data: Any) -> dict:
    """Return the scenario as 2.0 (1.3 is migrated); raise ScenarioInvalid listing every problem."""
    if not isinstance(data, dict):
        raise ScenarioInvalid([{"path": "", "code": "type", "message": "scenario must be a JSON object"}])
    problems: list[dict[str, Any]] = []
    version = data.get("version")
    if version == "1.3":
        data, problems = migrate_with_problems(data)
    elif version != "2.0":
        raise ScenarioInvalid(
            [{"path": "version", "code": "unsupported_version", "message": 'version must be "2.0" or "1.3"'}]
        )
    checker = _Checker(data)
    checker.check()
    problems.extend(checker.problems)
    if problems:
        raise ScenarioInvalid(problems)
    return data


def size_problems(scenario: dict, duration: float | None) -> list[dict[str, Any]]:
    """Problems of a valid scenario that is too dense for a source of ``duration`` seconds.

    Each cue and node costs page work on every frame it could be mounted in, so thousands of cues on a
    short clip only make a render slow; real captions stay far below these rates.
    """
    if not duration or duration <= 0:
        return []
    problems: list[dict[str, Any]] = []
    cues = [c for c in scenario.get("cues") or [] if isinstance(c, dict)]
    max_cues = int(BASE_ALLOWANCE + CUES_PER_SECOND * duration)
    if len(cues) > max_cues:
        problems.append({"path": "cues", "code": "too_dense",
                         "message": f"{len(cues)} cues for {duration:.1f} s of video; at most {max_cues}"})
    nodes = sum(1 for cue in cues for _ in _walk_nodes(cue.get("root")))
    max_nodes = int(10 * BASE_ALLOWANCE + NODES_PER_SECOND * duration)
    if nodes > max_nodes:
        problems.append({"path": "cues", "code": "too_dense",
                         "message": f"{nodes} nodes for {duration:.1f} s of video; at most {max_nodes}"})
    return problems


def _walk_nodes(node: Any):
    if not isinstance(node, dict):
        return
    yield node
    for child in node.get("children") or []:
        yield from _walk_nodes(child)


def _resolve_define(scenario: dict, value: Any) -> Any:
    seen = 0
    while isinstance(value, str) and value.startswith("define.") and seen < 32:
        cur: Any = scenario.get("define") or {}
        for part in value[len("define.") :].split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        value = cur
        seen += 1
    return value


def full_plugin_name(name: str) -> str:
    """`name@version` of a chain entry's name (a bare name means @2.0.0, as in the editor)."""
    return name if "@" in name else f"{name}@{DEFAULT_PLUGIN_VERSION}"


def plugin_names(scenario: dict) -> list[str]:
    """Every `name@version` the scenario's plugin chains use, sorted, each once (bare names completed)."""
    names: set[str] = set()
    for cue in scenario.get("cues") or []:
        if not isinstance(cue, dict):
            continue
        for node in _walk_nodes(cue.get("root")):
            for spec in node.get("pluginChain") or []:
                if isinstance(spec, dict):
                    name = _resolve_define(scenario, spec.get("name"))
                    if isinstance(name, str):
                        names.add(full_plugin_name(name))
    return sorted(names)


def split_plugin_name(full: str) -> tuple[str, str]:
    m = PLUGIN_NAME_RE.match(full)
    if not m:
        raise ValueError(f"not a plugin name: {full!r}")
    return m.group("name"), m.group("version")


def _collect_display_times(
    scenario: dict, node: dict, inherited: tuple[float, float] | None, times: list[tuple[float, float]]
) -> bool:
    """Append every node's inherited displayTime; True when some node has none (always mounted)."""
    dt = _resolve_define(scenario, node.get("displayTime"))
    own = (float(dt[0]), float(dt[1])) if isinstance(dt, list | tuple) and len(dt) == 2 else inherited
    unbounded = own is None
    if own is not None:
        times.append(own)
    for child in node.get("children") or []:
        if isinstance(child, dict):
            unbounded = _collect_display_times(scenario, child, own, times) or unbounded
    return unbounded


def active_intervals(scenario: dict) -> list[tuple[float, float]]:
    """Time intervals in which the renderer can have anything mounted (outside: nothing is drawn).

    Mirrors motiontext-renderer 1.5.0: a node is mounted while t is inside its cue's domLifetime
    (default: hull of the display times ± 0.5 s) and its own inherited displayTime (closed intervals).
    """
    out: list[tuple[float, float]] = []
    for cue in scenario.get("cues") or []:
        times: list[tuple[float, float]] = []
        cue_dt = _resolve_define(scenario, cue.get("displayTime"))
        inherited = (float(cue_dt[0]), float(cue_dt[1])) if isinstance(cue_dt, list | tuple) else None
        unbounded = _collect_display_times(scenario, cue.get("root") or {}, inherited, times)
        dom = _resolve_define(scenario, cue.get("domLifetime"))
        if isinstance(dom, list | tuple) and len(dom) == 2:
            lo, hi = float(dom[0]), float(dom[1])
        else:
            finite = [t for t in times if math.isfinite(t[0]) and math.isfinite(t[1])]
            if finite:
                lo, hi = min(t[0] for t in finite) - 0.5, max(t[1] for t in finite) + 0.5
            else:
                lo, hi = -1.0, math.inf
        if not unbounded and times:
            lo = max(lo, min(t[0] for t in times))
            hi = min(hi, max(t[1] for t in times))
        if lo <= hi:
            out.append((lo, hi))
    return out
