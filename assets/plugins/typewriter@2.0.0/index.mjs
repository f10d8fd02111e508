// typewriter@2.0.0 — the word is typed character by character behind a cursor; every character is
// --- shared helpers (each plugin is one self-contained module: the editor imports it from a Blob URL,
// so it cannot import siblings). Everything below is a pure function of its inputs: no timers, no
// wall clock, no Math.random — the same (text, params, progress) always draws the same frame.
const clamp01 = (x) => (x < 0 ? 0 : x > 1 ? 1 : x);
const lerp = (a, b, t) => a + (b - a) * t;
function num(v, dflt, lo, hi) {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) return dflt;
  return Math.min(hi, Math.max(lo, n));
}
function bool(v, dflt) {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === 1) return true;
  if (v === "false" || v === 0) return false;
  return dflt;
}
// The editor's object fields store a JSON *string*; scenarios written by hand carry objects.
function obj(v) {
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch (_e) {
      return {};
    }
  }
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}
// Seeded randomness: FNV-1a of a key string feeds mulberry32.
function rng(key) {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const EASE = {
  linear: (t) => t,
  "power1.out": (t) => 1 - (1 - t) ** 2,
  "power2.out": (t) => 1 - (1 - t) ** 3,
  "power3.out": (t) => 1 - (1 - t) ** 4,
  "power2.in": (t) => t ** 3,
  "back.out": (t) => 1 + 2.70158 * (t - 1) ** 3 + 1.70158 * (t - 1) ** 2,
  "elastic.out": (t) => (t <= 0 ? 0 : t >= 1 ? 1 : 2 ** (-10 * t) * Math.sin(((t * 10 - 0.75) * 2 * Math.PI) / 3) + 1),
  "bounce.out": (t) => {
    const n = 7.5625, d = 2.75;
    if (t < 1 / d) return n * t * t;
    if (t < 2 / d) return n * (t -= 1.5 / d) * t + 0.75;
    if (t < 2.5 / d) return n * (t -= 2.25 / d) * t + 0.9375;
    return n * (t -= 2.625 / d) * t + 0.984375;
  },
  "cubic.inOut": (t) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2),
  "cubic.out": (t) => 1 - (1 - t) ** 3,
};
// A damped spring settling from 0 to 1; `strength` widens the overshoot, `period` sets the wobble.
function spring(t, strength = 1, period = 0.3) {
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  const amp = Math.max(0.1, strength);
  return 1 - Math.cos((t * 2 * Math.PI) / period) * Math.exp(-t * (9 / amp)) * (1 - t);
}
// Staggered units: unit i of n runs `dur` starting at i·stagger; the whole sequence spans p 0..1.
function stagger(p, i, n, dur, gap) {
  const total = dur + gap * Math.max(0, n - 1);
  return clamp01((p * total - i * gap) / dur);
}
function unitText(el) {
  return (el.textContent || "").replace(/\s+/g, " ");
}
// Splits the root's text into inline-block spans (per character or per word); spaces stay breakable.
function split(el, mode, cls) {
  const text = unitText(el);
  el.textContent = "";
  const host = document.createElement("span");
  host.className = cls;
  host.style.display = "inline-block";
  host.style.whiteSpace = "pre";
  const units = [];
  const parts = mode === "word" ? text.split(/( )/) : Array.from(text);
  for (const part of parts) {
    if (part === "") continue;
    if (part === " ") {
      host.appendChild(document.createTextNode(" "));
      continue;
    }
    const s = document.createElement("span");
    s.textContent = part;
    s.style.display = "inline-block";
    host.appendChild(s);
    units.push(s);
  }
  el.appendChild(host);
  return { host, units, text };
}
const f3 = (x) => (Math.abs(x) < 1e-6 ? "0" : x.toFixed(3));
function grey(t) {
  const c = Math.round(lerp(136, 255, clamp01(t)));
  return `rgb(${c},${c},${c})`;
}

// typed by the end of the window (longer words type faster), the newest one flashes briefly.
export const name = "typewriter";
export const version = "2.0.0";

export function animate(el, params = {}) {
  const speed = num(params.typingSpeed, 0.05, 0.02, 0.2);
  const blink = bool(params.cursorBlink, true);
  const show = bool(params.showCursor, true);
  const cursorChar = typeof params.cursorChar === "string" && params.cursorChar ? params.cursorChar.slice(0, 2) : "|";
  // soundEffect: accepted for the editor's schema; a rendered caption overlay has no sound.
  const { host, units } = split(el, "char", "mt-typewriter");
  const n = units.length;
  const step = n ? Math.min(speed, 1 / n) : speed;
  let cursor = null;
  if (show) {
    cursor = document.createElement("span");
    cursor.textContent = cursorChar;
    cursor.style.display = "inline-block";
    cursor.style.color = "#ffffff";
    cursor.style.marginLeft = "0.05em";
    host.appendChild(cursor);
  }
  return (p) => {
    const typed = p >= 1 ? n : Math.min(n, Math.floor(p / step + 1e-9));
    units.forEach((u, i) => {
      u.style.visibility = i < typed ? "visible" : "hidden";
      // The newest character glows for the first half of its step.
      const age = (p - i * step) / step;
      const flash = i === typed - 1 && p < 1 ? clamp01(1 - 2 * age) : 0;
      u.style.textShadow = flash > 0 ? `0 0 ${f3(8 * flash)}px rgba(255,255,255,${f3(0.9 * flash)})` : "";
    });
    if (cursor) cursor.style.visibility = !blink || p < 0.5 || p >= 1 ? "visible" : "hidden";
  };
}

export function cleanup(el) {
  if (el && el.style) el.style.textShadow = "";
}
