// ecg-pop: scale from `fromScale` up past `peakScale` and settle at 1 (progress-driven only).
function num(v, dflt, lo, hi) {
  const n = Number(v);
  if (v === undefined || v === null || v === "" || !Number.isFinite(n)) return dflt;
  return Math.min(hi, Math.max(lo, n));
}
const easeOut = (t) => 1 - (1 - t) * (1 - t);
const easeInOut = (t) => (t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t));

export default {
  name: "ecg-pop",
  version: "1.0.0",
  animate(el, params = {}) {
    const from = num(params.fromScale, 0.5, 0, 1);
    const peak = num(params.peakScale, 1.15, 1, 2);
    const fade = params.fade === undefined ? true : Boolean(params.fade) && params.fade !== "false";
    el.style.transformOrigin = "50% 60%";
    return (p) => {
      const q = Math.min(1, Math.max(0, p));
      let s;
      if (q < 0.6) s = from + (peak - from) * easeOut(q / 0.6);
      else s = peak + (1 - peak) * easeInOut((q - 0.6) / 0.4);
      el.style.transform = q >= 1 ? "" : `scale(${s.toFixed(4)})`;
      el.style.opacity = fade ? String(Math.min(1, q / 0.3)) : "";
    };
  },
  cleanup(el) {
    if (el && el.style) {
      el.style.transform = "";
      el.style.opacity = "";
    }
  },
};
