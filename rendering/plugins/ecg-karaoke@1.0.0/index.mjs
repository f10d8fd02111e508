// ecg-karaoke: highlights a word while it is spoken. "wipe" reveals a highlighted copy of the text
// left to right (clip-path), "fill" cross-fades to it. The word stays highlighted at progress 1.
function num(v, dflt, lo, hi) {
  const n = Number(v);
  if (v === undefined || v === null || v === "" || !Number.isFinite(n)) return dflt;
  return Math.min(hi, Math.max(lo, n));
}

export default {
  name: "ecg-karaoke",
  version: "1.0.0",
  animate(el, params = {}) {
    const color = typeof params.highlightColor === "string" && params.highlightColor ? params.highlightColor : "#ffe066";
    const mode = params.mode === "fill" ? "fill" : "wipe";
    const bump = num(params.bump, 1, 1, 1.5);
    let hl = el.querySelector(":scope > [data-ecg-karaoke]");
    if (!hl) {
      const text = el.textContent || "";
      hl = document.createElement("span");
      hl.setAttribute("data-ecg-karaoke", "");
      hl.setAttribute("aria-hidden", "true");
      hl.textContent = text;
      Object.assign(hl.style, {
        position: "absolute", left: "0", top: "0", width: "100%", height: "100%",
        whiteSpace: "nowrap", pointerEvents: "none", textShadow: "none", color,
        webkitTextFillColor: color,
      });
      el.appendChild(hl);
    }
    el.style.transformOrigin = "50% 60%";
    return (p) => {
      const q = Math.min(1, Math.max(0, p));
      if (mode === "wipe") {
        hl.style.clipPath = `inset(0 ${((1 - q) * 100).toFixed(3)}% 0 0)`;
        hl.style.opacity = q > 0 ? "1" : "0";
      } else {
        hl.style.clipPath = "";
        hl.style.opacity = q.toFixed(4);
      }
      const s = 1 + (bump - 1) * Math.sin(Math.PI * q);
      el.style.transform = s !== 1 ? `scale(${s.toFixed(4)})` : "";
    };
  },
  cleanup(el) {
    if (el && el.querySelector) {
      const hl = el.querySelector(":scope > [data-ecg-karaoke]");
      if (hl) hl.remove();
      el.style.transform = "";
    }
  },
};
