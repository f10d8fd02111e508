// ecg-loudness: emphasis from a word's measured loudness (volume_db, as in the transcript's words).
// Louder than baseline_db scales up towards maxScale at loud_db (and may tint towards loudColor);
// quieter scales down towards minScale at whisper_db. Words at or above loud_db shake slightly; the
// shake offsets come from Math.random, which the render host seeds per job and frame.
function num(v, dflt, lo, hi) {
  const n = Number(v);
  if (v === undefined || v === null || v === "" || !Number.isFinite(n)) return dflt;
  return Math.min(hi, Math.max(lo, n));
}

function parseColor(c) {
  if (typeof c !== "string") return null;
  const s = c.trim();
  let m = s.match(/^#([0-9a-f]{3})$/i);
  if (m) return [...m[1]].map((h) => parseInt(h + h, 16));
  m = s.match(/^#([0-9a-f]{6})$/i);
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  m = s.match(/^rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/i);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return null;
}

export default {
  name: "ecg-loudness",
  version: "1.0.0",
  animate(el, params = {}) {
    const db = num(params.volume_db, -22, -100, 0);
    const base = num(params.baseline_db, -22, -100, 0);
    const loud = num(params.loud_db, -12, -100, 0);
    const whisper = num(params.whisper_db, -32, -100, 0);
    const maxScale = num(params.maxScale, 1.4, 1, 3);
    const minScale = num(params.minScale, 0.8, 0.3, 1);
    const shakeEm = num(params.shakeEm, 0.04, 0, 0.5);
    let level = 0;
    if (db >= base) level = loud > base ? Math.min(1, (db - base) / (loud - base)) : 1;
    else level = whisper < base ? -Math.min(1, (base - db) / (base - whisper)) : -1;
    const target = level >= 0 ? 1 + (maxScale - 1) * level : 1 + (1 - minScale) * level;
    const baseColor = parseColor(getComputedStyle(el).color);
    const loudColor = level > 0 ? parseColor(params.loudColor) : null;
    const jitter = [];
    if (db >= loud && shakeEm > 0) {
      for (let i = 0; i < 12; i++) jitter.push([Math.random() * 2 - 1, Math.random() * 2 - 1]);
    }
    el.style.transformOrigin = "50% 60%";
    return (p) => {
      const q = Math.min(1, Math.max(0, p));
      const env = q < 0.15 ? 1 - (1 - q / 0.15) ** 2 : q > 0.85 ? (1 - q) / 0.15 : 1;
      const s = 1 + (target - 1) * env;
      let tr = "";
      if (jitter.length && q > 0 && q < 1) {
        const [jx, jy] = jitter[Math.min(jitter.length - 1, Math.floor(q * jitter.length))];
        tr = `translate(${(jx * shakeEm * env).toFixed(4)}em, ${(jy * shakeEm * env).toFixed(4)}em) `;
      }
      el.style.transform = s !== 1 || tr ? `${tr}scale(${s.toFixed(4)})` : "";
      if (loudColor && baseColor) {
        const k = level * env;
        const mix = baseColor.map((b, i) => Math.round(b + (loudColor[i] - b) * k));
        el.style.color = k > 0 ? `rgb(${mix.join(",")})` : "";
      }
    };
  },
  cleanup(el) {
    if (el && el.style) {
      el.style.transform = "";
      el.style.color = "";
    }
  },
};
