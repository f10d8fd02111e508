// ECG render page: drives motiontext-renderer frame by frame for the Python capture stage.
//
// Python (rendering/pipeline/capture.py) loads this page from the virtual origin http://ecg.render,
// calls ecgInit() once per job, then ecgAdvance() / ecgPreroll() / ecgSeek(). Time is driven only
// by explicit seeks (frame n is t = n / fps); nothing here reads the wall clock.
import { MotionTextRenderer, registerExternalPlugin } from "motiontext-renderer";

const state = {
  renderer: null,
  fps: 30,
  seed: 0,
  width: 0,
  height: 0,
  pad: 0,
  lastSig: null,
  tileArea: 0,
};

// mulberry32: small, fast, good enough for animation jitter. Reseeded on every seek from (job seed,
// frame index) so that any frame's random draws are the same whichever page or chunk renders it.
function mulberry32(a) {
  return function random() {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function reseed(frame) {
  const mix = Math.imul(state.seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(frame + 1, 0xc2b2ae35);
  Math.random = mulberry32(mix);
}

function seekFrame(n) {
  reseed(n);
  state.renderer.seek(n / state.fps);
}

function nextPaint() {
  // Two rAFs: the first runs before the next frame's style/layout/paint, the second after it.
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
}

// FNV-1a over the signature string, two different offsets for a 64-bit-ish key.
function hash(str) {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  return (h1 >>> 0).toString(36) + "." + (h2 >>> 0).toString(36) + "." + str.length;
}

// What goes into a frame's signature: every element's attributes (class, data-*), inline style, own
// text, box and effective opacity. The renderer and plugins animate only through inline styles, CSS
// variables set inline and attributes; the page's stylesheet never changes between frames, so any
// computed value that affects pixels is a function of these (reading computed values instead costs
// ~0.4 ms per frame more and catches nothing extra).
function attrsOf(el) {
  let out = "";
  for (const a of el.attributes) {
    if (a.name !== "style") out += a.name + "=" + a.value + ";";
  }
  return out;
}

const range = document.createRange();

// Walks the overlay DOM once: is anything painted, a signature of everything that affects pixels, and
// the union of painted boxes (text glyph boxes via Range, boxes with backgrounds/borders/shadows).
function inspect() {
  const root = document.getElementById("stage");
  // The live stage sits outside the viewport (nothing there is rasterized); boxes are stage-relative.
  const origin = root.getBoundingClientRect();
  const ox = origin.left, oy = origin.top;
  const parts = [];
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  let visible = false;
  const add = (r) => {
    if (r.width <= 0 || r.height <= 0) return;
    visible = true;
    if (r.left - ox < x0) x0 = r.left - ox;
    if (r.top - oy < y0) y0 = r.top - oy;
    if (r.right - ox > x1) x1 = r.right - ox;
    if (r.bottom - oy > y1) y1 = r.bottom - oy;
  };
  const walk = (el, parentOpacity) => {
    const cs = getComputedStyle(el);
    if (cs.display === "none") return;
    const opacity = parentOpacity * parseFloat(cs.opacity || "1");
    if (!(opacity > 0.001)) return;
    const shown = cs.visibility !== "hidden";
    const r = el.getBoundingClientRect();
    let sig = el.tagName + "|" + opacity.toFixed(4) + "|" + (shown ? 1 : 0) + "|" +
      (r.left - ox).toFixed(2) + "," + (r.top - oy).toFixed(2) + "," + r.width.toFixed(2) + "," + r.height.toFixed(2) +
      "|" + attrsOf(el) + "|" + el.style.cssText;
    if (shown) {
      const bg = cs.backgroundColor;
      const boxPaints =
        (bg && bg !== "transparent" && !/^rgba\(.*,\s*0\)$/.test(bg)) ||
        cs.backgroundImage !== "none" ||
        cs.boxShadow !== "none" ||
        (parseFloat(cs.borderTopWidth) > 0 && cs.borderTopStyle !== "none") ||
        /^(IMG|VIDEO|CANVAS|SVG|svg)$/.test(el.tagName);
      if (boxPaints) add(r);
      for (const n of el.childNodes) {
        if (n.nodeType === 3 && n.data.trim()) {
          range.selectNodeContents(n);
          add(range.getBoundingClientRect());
          sig += "|t:" + n.data;
        }
      }
      if (el.tagName === "IMG") sig += "|src:" + el.currentSrc + ":" + el.complete;
    }
    parts.push(sig);
    for (const c of el.children) walk(c, opacity);
  };
  for (const c of root.children) walk(c, 1);
  if (!visible) return { visible: false, sig: null, bbox: null };
  const W = state.width, H = state.height, pad = state.pad;
  // Pad for shadows/filters painted outside the boxes; align to even pixels for 4:2:0 chroma.
  let bx0 = Math.max(0, Math.floor((x0 - pad) / 2) * 2);
  let by0 = Math.max(0, Math.floor((y0 - pad) / 2) * 2);
  let bx1 = Math.min(W, Math.ceil((x1 + pad) / 2) * 2);
  let by1 = Math.min(H, Math.ceil((y1 + pad) / 2) * 2);
  if (bx1 <= bx0 || by1 <= by0) return { visible: false, sig: null, bbox: null };
  return { visible: true, sig: hash(parts.join("\n")), bbox: [bx0, by0, bx1 - bx0, by1 - by0] };
}

window.ecgInit = async function ecgInit(cfg) {
  state.fps = cfg.fps;
  state.seed = cfg.seed >>> 0;
  state.width = cfg.width;
  state.height = cfg.height;
  state.pad = cfg.pad ?? Math.round(cfg.height * 0.02) + 8;
  state.tileArea = cfg.tileArea ?? 0;
  state.lastSig = null;
  // Live stage: above the viewport unless capturing it directly (cfg.liveOnScreen, the simple
  // ecgSeek/screenshot path); tiles: from the top of the viewport.
  const frameEl = document.getElementById("frame");
  frameEl.style.width = `${cfg.width}px`;
  frameEl.style.height = `${cfg.height}px`;
  state.liveTop = cfg.liveOnScreen ? 0 : -(cfg.height + 64);
  frameEl.style.top = `${state.liveTop}px`;
  const tilesEl = document.getElementById("tiles");
  tilesEl.style.top = cfg.liveOnScreen ? `${cfg.height}px` : "0px";
  state.tilesTop = cfg.liveOnScreen ? cfg.height : 0;
  tilesEl.style.width = `${cfg.width}px`;
  tilesEl.style.height = `${state.tileArea}px`;
  reseed(-1);
  // Time comes only from seeks; GSAP's ticker would otherwise run a rAF loop that, with Chromium's
  // frame-rate limit off, keeps a CPU core busy. Plugin timelines are paused and driven by progress.
  if (window.gsap && window.gsap.ticker) {
    window.gsap.ticker.sleep();
    window.gsap.ticker.wake = () => {};
  }
  document.documentElement.style.background = "transparent";
  document.body.style.background = "transparent";

  const pluginErrors = [];
  for (const p of cfg.plugins) {
    const id = `${p.name}@${p.version}`;
    try {
      const mod = await import(p.entryUrl);
      const impl = mod && mod.default ? mod.default : mod;
      if (!impl || (typeof impl.animate !== "function" && typeof impl.evalChannels !== "function")) {
        throw new Error("module exports neither animate() nor evalChannels()");
      }
      registerExternalPlugin({ name: p.name, version: p.version, module: impl, baseUrl: p.baseUrl, manifest: p.manifest });
    } catch (e) {
      pluginErrors.push({ plugin: id, message: String((e && e.message) || e) });
    }
  }
  if (pluginErrors.length) return { ok: false, pluginErrors };

  const stageEl = document.getElementById("stage");
  const renderer = new MotionTextRenderer(stageEl, { fps: cfg.fps, snapToFrame: false, debugMode: false });
  // In the editor the content box follows the attached <video>; we attach no media element, so give
  // the stage the frame's dimensions instead (otherwise "auto" falls back to 16:9 letterboxing).
  const stage = renderer.renderer && renderer.renderer.stage;
  if (stage) stage.media = { videoWidth: cfg.width, videoHeight: cfg.height };
  try {
    await renderer.loadConfig(cfg.scenario);
  } catch (e) {
    return { ok: false, error: String((e && e.message) || e) };
  }
  if (stage && typeof stage.updateBounds === "function") {
    stage._lastBox = null;
    stage.updateBounds();
  }
  await document.fonts.ready;
  state.renderer = renderer;
  await nextPaint();
  return { ok: true, userAgent: navigator.userAgent };
};

// Seek frames [from, n) without inspecting or painting: rebuilds exactly the DOM/plugin state a
// sequential run would have at frame n (used before a chunk that does not start at a quiet frame).
window.ecgPreroll = function ecgPreroll(from, to) {
  for (let n = from; n < to; n++) seekFrame(n);
  state.lastSig = null;
  return to - from;
};

// Seeks frames from..to-1 until one shows something that differs from the last captured state; that
// frame is painted (two rAFs) and returned for capture. `skipped` has one char per frame before it:
// "0" nothing visible, "1" identical to the last captured overlay.
window.ecgAdvance = async function ecgAdvance(from, to) {
  let skipped = "";
  for (let n = from; n < to; n++) {
    seekFrame(n);
    const info = inspect();
    if (!info.visible) { skipped += "0"; continue; }
    if (info.sig === state.lastSig) { skipped += "1"; continue; }
    state.lastSig = info.sig;
    await nextPaint();
    return { frame: n, skipped, bbox: info.bbox, sig: info.sig };
  }
  return { frame: null, skipped, bbox: null, sig: null };
};

// One frame, painted, with its state (the simple API; the naive benchmark path uses it).
window.ecgSeek = async function ecgSeek(t) {
  reseed(Math.round(t * state.fps));
  state.renderer.seek(t);
  const info = inspect();
  const changed = info.visible && info.sig !== state.lastSig;
  if (info.visible) state.lastSig = info.sig;
  await nextPaint();
  return { ...info, changed };
};

// Batch capture. Seeks frames from..to-1; every frame whose visible state changed is snapshotted
// (a deep clone of the stage: all renderer/plugin state lives in inline styles and the DOM) into a
// tile below the frame, clipped to its caption box, until maxTiles tiles or the tile area are used.
// One paint + one screenshot of the tile area then captures the whole batch.
// codes[i] for frame from+i: -1 nothing visible, -2 same as the last capture of an earlier batch,
// k >= 0 same as tile k of this batch. `next` is the first frame not handled (to resume from).
function hasLiveMedia(root) {
  return root.querySelector("img, video, canvas, iframe, svg image") !== null;
}

window.ecgAdvanceBatch = async function ecgAdvanceBatch(from, to, maxTiles, paint = true) {
  const stage = document.getElementById("stage");
  const tilesEl = document.getElementById("tiles");
  tilesEl.replaceChildren();
  tilesEl.style.visibility = "";
  document.getElementById("frame").style.top = `${state.liveTop}px`;
  const codes = [];
  const tiles = [];
  let used = 0;
  let last = -2;
  let n = from;
  let live = false;
  for (; n < to; n++) {
    seekFrame(n);
    const info = inspect();
    if (!info.visible) { codes.push(-1); continue; }
    if (info.sig === state.lastSig) { codes.push(last); continue; }
    const [bx, by, bw, bh] = info.bbox;
    if (tiles.length && (tiles.length >= maxTiles || used + bh > state.tileArea)) break;
    if (hasLiveMedia(stage)) {
      // Images/videos may not be decoded in a fresh clone: capture this frame from the live stage,
      // moved into the viewport for the shot.
      if (tiles.length) break;
      live = true;
      document.getElementById("frame").style.top = "0px";
      tilesEl.style.visibility = "hidden";
      tiles.push({ frame: n, bbox: info.bbox, y: by, live: true });
      state.lastSig = info.sig;
      codes.push(0);
      n++;
      break;
    }
    const tile = document.createElement("div");
    tile.className = "ecg-tile";
    tile.style.top = `${used}px`;
    tile.style.width = `${state.width}px`;
    tile.style.height = `${bh}px`;
    const frame = document.createElement("div");
    frame.className = "ecg-tile-frame";
    frame.style.top = `${-by}px`;
    frame.style.width = `${state.width}px`;
    frame.style.height = `${state.height}px`;
    const clone = stage.cloneNode(true);
    clone.removeAttribute("id");
    frame.appendChild(clone);
    tile.appendChild(frame);
    tilesEl.appendChild(tile);
    tiles.push({ frame: n, bbox: info.bbox, y: state.tilesTop + used, live: false });
    used += bh;
    state.lastSig = info.sig;
    last = tiles.length - 1;
    codes.push(last);
  }
  if (tiles.length && paint) await nextPaint();
  let clip = null;
  if (tiles.length) {
    if (live) {
      clip = tiles[0].bbox;
    } else {
      const x0 = Math.min(...tiles.map((t) => t.bbox[0]));
      const x1 = Math.max(...tiles.map((t) => t.bbox[0] + t.bbox[2]));
      clip = [x0, state.tilesTop, x1 - x0, used];
    }
  }
  return { codes, tiles, next: n, clip };
};

window.ecgResetSignature = function ecgResetSignature() {
  state.lastSig = null;
};

window.ecgPageReady = true;
