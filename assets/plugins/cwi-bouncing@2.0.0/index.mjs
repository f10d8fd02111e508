// cwi-bouncing@2.0.0 — letters hop in a wave across the word (DOM) while the whole word sways a little
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

// --- CWI (caption with intention) shared DOM: every cwi-* plugin on a word works on one structure,
// so they compose in a chain: span.cwi-word (the whole word, 90% white) > span.cwi-letter, each letter
// moved through --letter-tx/--letter-ty (cwi-bouncing) and coloured per letter (cwi-color).
function cwiWord(el) {
  let word = el.querySelector("span.cwi-word");
  if (!word) {
    const text = unitText(el);
    el.textContent = "";
    word = document.createElement("span");
    word.className = "cwi-word";
    Object.assign(word.style, { display: "inline-block", whiteSpace: "pre", color: "rgba(255,255,255,0.9)", transformOrigin: "50% 70%" });
    for (const ch of Array.from(text)) {
      const s = document.createElement("span");
      s.className = "cwi-letter";
      s.textContent = ch;
      s.style.display = "inline-block";
      s.style.transform = "translate(var(--letter-tx, 0px), var(--letter-ty, 0px))";
      word.appendChild(s);
    }
    el.appendChild(word);
  }
  return { word, letters: Array.from(word.querySelectorAll("span.cwi-letter")) };
}
// Fast rise over p 0–0.12, hold, fast fall over 0.88–1.
function envelope(p) {
  if (p <= 0 || p >= 1) return 0;
  if (p < 0.12) return EASE["cubic.out"](p / 0.12);
  if (p > 0.88) return EASE["cubic.out"]((1 - p) / 0.12);
  return 1;
}
// Emphasis from the word's measured loudness (the transcript's volume_db against its
// volume_statistics thresholds): 1 without measurements, 0.5–1.5 with them. `dir` 1 = louder is
// stronger (cwi-loud), -1 = quieter is stronger (cwi-whisper).
function loudnessFactor(voice, dir) {
  const db = Number(voice.volume_db);
  if (voice.volume_db === undefined || voice.volume_db === null || !Number.isFinite(db)) return 1;
  const base = num(voice.baseline_db, -22, -100, 0);
  const edge = dir > 0 ? num(voice.loud_db, -12, -100, 0) : num(voice.whisper_db, -32, -100, 0);
  const span = Math.abs(edge - base) || 1;
  return Math.min(1.5, Math.max(0.5, 1 + (0.5 * dir * (db - base)) / span));
}
// Higher-pitched words bounce higher (pitch_hz against the transcript's mean pitch).
function pitchFactor(voice) {
  const hz = Number(voice.pitch_hz), mean = Number(voice.pitch_mean_hz);
  if (!(hz > 0) || !(mean > 0)) return 1;
  return Math.min(2, Math.max(0.5, hz / mean));
}

// (channels). With the word's voice features, higher-pitched words hop higher.
export const name = "cwi-bouncing";
export const version = "2.0.0";
const LETTER = 0.6; // each letter's share of the window

function height(params) {
  return num(params.waveHeight, 12, 0, 60) * pitchFactor(obj(params.voice));
}

export function animate(el, params = {}) {
  const h = height(params);
  const { letters } = cwiWord(el);
  const n = letters.length;
  return (p) => {
    letters.forEach((s, k) => {
      const start = n > 1 ? (k * (1 - LETTER)) / (n - 1) : 0;
      const e = EASE["cubic.inOut"](clamp01((p - start) / LETTER));
      s.style.setProperty("--letter-ty", `${f3(-h * Math.sin(Math.PI * e))}px`);
      s.style.setProperty("--letter-tx", `${f3(0.6 * Math.sin(2 * Math.PI * e))}px`);
    });
  };
}

export function evalChannels(spec, p) {
  const h = height((spec && spec.params) || {});
  const e = EASE["cubic.inOut"](clamp01(p));
  const s = 1 + 0.05 * Math.sin(Math.PI * e);
  return { ty: -0.3 * h * Math.sin(Math.PI * e), tx: 0.3 * Math.sin(2 * Math.PI * e), sx: s, sy: s };
}

export function cleanup(el) {
  if (el && el.style) el.style.transform = "";
}
