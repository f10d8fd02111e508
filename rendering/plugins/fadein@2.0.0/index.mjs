// fadein@2.0.0 (compatibility name used by editor scenarios): opacity ramp (optionally with a small rise) driven only by the progress it is given.
const EASES = {
  linear: (t) => t,
  easeOut: (t) => 1 - (1 - t) * (1 - t),
  easeInOut: (t) => (t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t)),
};

function num(v, dflt, lo, hi) {
  const n = Number(v);
  if (v === undefined || v === null || v === "" || !Number.isFinite(n)) return dflt;
  return Math.min(hi, Math.max(lo, n));
}

export default {
  name: "fadein",
  version: "2.0.0",
  animate(el, params = {}) {
    const from = num(params.from, 0, 0, 1);
    const rise = num(params.riseEm, 0, -2, 2);
    const ease = EASES[params.ease] || EASES.easeOut;
    return (p) => {
      const e = ease(Math.min(1, Math.max(0, p)));
      el.style.opacity = String(from + (1 - from) * e);
      el.style.transform = rise ? `translateY(${((1 - e) * rise).toFixed(4)}em)` : "";
    };
  },
  cleanup(el) {
    if (el && el.style) {
      el.style.opacity = "";
      el.style.transform = "";
    }
  },
};
