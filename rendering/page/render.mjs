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
  lastElems: null, // per-element signatures/extents of the last captured frame (damage tracking)
  damage: true,
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

// Stable ids for elements across frames (damage tracking compares an element with itself).
const elementIds = new WeakMap();
let nextElementId = 1;
function idOf(el) {
  let id = elementIds.get(el);
  if (id === undefined) {
    id = nextElementId++;
    elementIds.set(el, id);
  }
  return id;
}

// How far an element's paint reaches outside its boxes (CSS px, before transforms), from its computed
// shadows, filter, text stroke and outline. Values are cached per computed string. A filter this code
// cannot size (url(), unknown functions) reaches `state.pad`, the generous fallback.
const reachCache = new Map();
function lengthsOf(part) {
  const out = [];
  for (const m of part.matchAll(/(-?\d*\.?\d+(?:e-?\d+)?)px/g)) out.push(Math.abs(parseFloat(m[1])));
  return out;
}
function splitList(value) {
  return value.split(/,(?![^(]*\))/);
}
function shadowReach(value, isBox) {
  if (!value || value === "none") return 0;
  const key = (isBox ? "b:" : "t:") + value;
  let r = reachCache.get(key);
  if (r !== undefined) return r;
  r = 0;
  for (const part of splitList(value)) {
    if (isBox && /\binset\b/.test(part)) continue;
    const [dx = 0, dy = 0, blur = 0, spread = 0] = lengthsOf(part);
    // A blur radius r is drawn as a Gaussian of sigma r/2: visible to about 3 sigma.
    r = Math.max(r, Math.max(dx, dy) + (isBox ? spread : 0) + 1.5 * blur);
  }
  reachCache.set(key, r);
  return r;
}
function filterReach(value) {
  if (!value || value === "none") return 0;
  const key = "f:" + value;
  let r = reachCache.get(key);
  if (r !== undefined) return r;
  r = 0;
  for (const m of value.matchAll(/([a-z-]+)\(((?:[^()]|\([^()]*\))*)\)/g)) {
    const [name, args] = [m[1], m[2]];
    if (name === "blur") r += 3 * (lengthsOf(args)[0] || 0);
    else if (name === "drop-shadow") {
      const [dx = 0, dy = 0, sd = 0] = lengthsOf(args);
      r += Math.max(dx, dy) + 3 * sd;
    } else if (!/^(brightness|contrast|grayscale|hue-rotate|invert|opacity|saturate|sepia)$/.test(name)) {
      r += state.pad;
    }
  }
  reachCache.set(key, r);
  return r;
}

// What an element's computed style says about its paint, read once and reused while nothing that can
// change it changes. The stage's elements are styled only by inline styles, attributes and what they
// inherit (the page's stylesheet targets only its own boxes), so the computed values are a function of
// the element's own attributes + inline style, its position among its siblings, and its parent's
// computed values. `version` changes whenever an element's entry is recomputed; a child compares the
// version of its parent. Reading computed values is the costliest part of inspecting a frame, and
// most elements do not change from one frame to the next.
const styleCache = new WeakMap();
let styleVersion = 0;

function styleInfo(el, ownKey, parentVersion, index, useCache) {
  const siblings = el.parentElement ? el.parentElement.childElementCount : 0;
  let info = useCache ? styleCache.get(el) : undefined;
  if (
    info &&
    info.ownKey === ownKey &&
    info.parentVersion === parentVersion &&
    info.index === index &&
    info.siblings === siblings
  ) {
    return info;
  }
  const cs = getComputedStyle(el);
  info = { ownKey, parentVersion, index, siblings, version: ++styleVersion };
  info.none = cs.display === "none";
  // An inline box may wrap over several lines: its clip reference box is not its bounding rect.
  info.block = cs.display !== "inline" && cs.display !== "contents";
  info.opacity = parseFloat(cs.opacity || "1");
  info.shown = cs.visibility !== "hidden";
  const bg = cs.backgroundColor;
  const boxShadow = cs.boxShadow;
  const outline = cs.outlineStyle !== "none" ? Math.max(0, parseFloat(cs.outlineWidth) + parseFloat(cs.outlineOffset)) : 0;
  info.boxPaints =
    (bg && bg !== "transparent" && !/^rgba\(.*,\s*0\)$/.test(bg)) ||
    cs.backgroundImage !== "none" ||
    boxShadow !== "none" ||
    outline > 0 ||
    (parseFloat(cs.borderTopWidth) > 0 && cs.borderTopStyle !== "none") ||
    /^(IMG|VIDEO|CANVAS|SVG|svg)$/.test(el.tagName);
  info.boxReach = Math.max(shadowReach(boxShadow, true), outline) + 1;
  // Glyphs may overhang their line box (italics, accents): a sixth of the font size.
  const stroke = parseFloat(cs.webkitTextStrokeWidth) || 0;
  info.textReach = shadowReach(cs.textShadow, false) + stroke / 2 + parseFloat(cs.fontSize) / 6 + 1;
  info.filterReach = filterReach(cs.filter);
  if (useCache) styleCache.set(el, info);
  return info;
}

// Walks the overlay DOM once: is anything painted, a signature of everything that affects pixels, the
// union of painted boxes (text glyph boxes via Range, boxes with backgrounds/borders), each grown by how
// far that element's shadows, filter, stroke and outline reach (scaled by its transforms), and per
// element its own signature and the painted extent of its subtree (for damage rectangles).
function inspect() {
  const root = document.getElementById("stage");
  // The live stage sits outside the viewport (nothing there is rasterized); boxes are stage-relative.
  const origin = root.getBoundingClientRect();
  const ox = origin.left, oy = origin.top;
  const parts = [];
  const elems = new Map();
  let visible = false;
  // Stylesheets added after init (a plugin may inject one) could match on anything: no caching then.
  const useCache = document.styleSheets.length === state.styleSheets;
  // The stage's own style is inherited by everything: a change there invalidates every entry.
  const rootKey = attrsOf(root) + "|" + root.style.cssText;
  if (rootKey !== state.rootKey) {
    state.rootKey = rootKey;
    state.rootVersion = ++styleVersion;
  }
  const walk = (el, parentOpacity, parentScale, parentVersion, parentId, index) => {
    const ownKey = attrsOf(el) + "|" + el.style.cssText;
    const info = styleInfo(el, ownKey, parentVersion, index, useCache);
    if (info.none) return null;
    const opacity = parentOpacity * info.opacity;
    if (!(opacity > 0.001)) return null;
    const shown = info.shown;
    const r = el.getBoundingClientRect();
    const id = idOf(el);
    // Rendered size over layout size: the scale of this element's transforms and its ancestors'.
    const ow = el.offsetWidth, oh = el.offsetHeight;
    const scale = ow > 0 && oh > 0 ? Math.max(1, r.width / ow, r.height / oh) : parentScale;
    // Parent and DOM position are part of an element's signature: they decide its paint order.
    let sig = el.tagName + "|" + parentId + ":" + index + "|" + opacity.toFixed(4) + "|" + (shown ? 1 : 0) + "|" +
      (r.left - ox).toFixed(2) + "," + (r.top - oy).toFixed(2) + "," + r.width.toFixed(2) + "," + r.height.toFixed(2) +
      "|" + ownKey;
    // Painted extent of this subtree: [x0, y0, x1, y1], stage-relative.
    const ext = [Infinity, Infinity, -Infinity, -Infinity];
    const add = (b, reach) => {
      if (b.width <= 0 || b.height <= 0) return;
      visible = true;
      if (b.left - ox - reach < ext[0]) ext[0] = b.left - ox - reach;
      if (b.top - oy - reach < ext[1]) ext[1] = b.top - oy - reach;
      if (b.right - ox + reach > ext[2]) ext[2] = b.right - ox + reach;
      if (b.bottom - oy + reach > ext[3]) ext[3] = b.bottom - oy + reach;
    };
    if (shown) {
      if (info.boxPaints) add(r, scale * info.boxReach);
      for (const n of el.childNodes) {
        if (n.nodeType === 3 && n.data.trim()) {
          range.selectNodeContents(n);
          add(range.getBoundingClientRect(), scale * info.textReach);
          sig += "|t:" + n.data;
        }
      }
      if (el.tagName === "IMG") sig += "|src:" + el.currentSrc + ":" + el.complete;
    }
    parts.push(sig);
    const entry = { sig, ext, clip: null, unclipped: null };
    const clipPath = el.style.clipPath;
    if (clipPath && info.block && ow > 0 && oh > 0) {
      // A wipe (karaoke) moves one edge of an inset() clip a little each frame: remember the clip box
      // and the signature without it, so that only the strip the edge swept counts as changed.
      const box = insetBox(clipPath, ow, oh, r, ox, oy);
      const decl = "clip-path: " + clipPath + ";";
      if (box && sig.includes(decl)) {
        entry.clip = box;
        entry.unclipped = sig.replace(decl, "");
      }
    }
    elems.set(id, entry);
    let i = 0;
    for (const c of el.children) {
      const sub = walk(c, opacity, scale, info.version, id, i++);
      if (sub) unionInto(ext, sub);
    }
    // A filter (blur, drop-shadow) spreads the whole subtree's paint.
    const f = scale * info.filterReach;
    if (f > 0 && ext[2] > ext[0]) {
      ext[0] -= f;
      ext[1] -= f;
      ext[2] += f;
      ext[3] += f;
    }
    return ext;
  };
  const all = [Infinity, Infinity, -Infinity, -Infinity];
  let i = 0;
  for (const c of root.children) {
    const sub = walk(c, 1, 1, state.rootVersion, 0, i++);
    if (sub) unionInto(all, sub);
  }
  if (!visible) return { visible: false, sig: null, bbox: null, elems: null };
  const bbox = padBox(all);
  if (!bbox) return { visible: false, sig: null, bbox: null, elems: null };
  return { visible: true, sig: hash(parts.join("\n")), bbox, elems };
}

// Grows box `dst` ([x0, y0, x1, y1]) to hold box `e`; an empty or inverted `e` adds nothing.
function unionInto(dst, e) {
  if (!(e[2] > e[0] && e[3] > e[1])) return;
  if (e[0] < dst[0]) dst[0] = e[0];
  if (e[1] < dst[1]) dst[1] = e[1];
  if (e[2] > dst[2]) dst[2] = e[2];
  if (e[3] > dst[3]) dst[3] = e[3];
}

// [x0, y0, x1, y1] → [x, y, w, h] grown by a pixel of antialiasing, aligned to even pixels for 4:2:0
// chroma and clipped to the frame; null when empty. (Extents already include what shadows reach.)
function padBox(b) {
  const W = state.width, H = state.height;
  const x0 = Math.max(0, Math.floor((b[0] - 1) / 2) * 2);
  const y0 = Math.max(0, Math.floor((b[1] - 1) / 2) * 2);
  const x1 = Math.min(W, Math.ceil((b[2] + 1) / 2) * 2);
  const y1 = Math.min(H, Math.ceil((b[3] + 1) / 2) * 2);
  if (!(x1 > x0 && y1 > y0)) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

// The part of the frame that differs between the last captured state and `elems`: the union of the old
// and new subtree extents of every element whose own signature changed, appeared or disappeared (an
// element's inherited properties reach its descendants, so its whole subtree counts). Padded like the
// bbox. null when the previous state is unknown (a full capture is needed).
function damageOf(prev, elems) {
  if (!prev) return null;
  const d = [Infinity, Infinity, -Infinity, -Infinity];
  const grow = (e) => unionInto(d, e);
  for (const [id, cur] of elems) {
    const old = prev.get(id);
    if (old && old.sig === cur.sig) continue;
    if (old && old.clip && cur.clip && old.unclipped === cur.unclipped) {
      // Only an inset() clip moved: clip-path clips all of the element's paint (shadows, children),
      // so what changed lies between each old and new edge, within the element's extent.
      for (const strip of sweptStrips(old.clip, cur.clip)) grow(intersect(strip, cur.ext));
      continue;
    }
    grow(cur.ext);
    if (old) grow(old.ext);
  }
  for (const [id, old] of prev) {
    if (!elems.has(id)) grow(old.ext);
  }
  return padBox(d);
}

// An inset() clip-path as a stage-relative box, for an element of layout size ow x oh whose rendered
// box is r (translate/uniform-scale transforms only); null for anything else (round corners, other
// shapes, rotations, units other than px and %).
function insetBox(value, ow, oh, r, ox, oy) {
  const m = /^inset\(([^()]*)\)$/.exec(value);
  if (!m) return null;
  const parts = m[1].trim().split(/\s+/);
  if (parts.length < 1 || parts.length > 4) return null;
  const [t, rt = t, b = t, l = rt] = parts;
  const len = (v, size) => {
    const n = parseFloat(v);
    if (!Number.isFinite(n)) return NaN;
    if (v.endsWith("%")) return (n / 100) * size;
    if (v.endsWith("px") || n === 0) return n;
    return NaN;
  };
  const [it, ir, ib, il] = [len(t, oh), len(rt, ow), len(b, oh), len(l, ow)];
  if (![it, ir, ib, il].every(Number.isFinite)) return null;
  const sx = r.width / ow, sy = r.height / oh;
  if (Math.abs(sx - sy) > 1e-3 * Math.max(sx, sy)) return null;
  const x0 = r.left - ox + il * sx, x1 = r.right - ox - ir * sx;
  const y0 = r.top - oy + it * sy, y1 = r.bottom - oy - ib * sy;
  return [x0, y0, Math.max(x0, x1), Math.max(y0, y1)];
}

// The parts of the plane where the inside of box `a` differs from the inside of box `b`: one strip
// per moved edge, spanning both boxes, grown by a pixel for the antialiased edge.
function sweptStrips(a, b) {
  const lo = [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
  const hi = [Math.max(a[2], b[2]), Math.max(a[3], b[3])];
  const out = [];
  if (a[0] !== b[0]) out.push([Math.min(a[0], b[0]) - 1, lo[1], Math.max(a[0], b[0]) + 1, hi[1]]);
  if (a[2] !== b[2]) out.push([Math.min(a[2], b[2]) - 1, lo[1], Math.max(a[2], b[2]) + 1, hi[1]]);
  if (a[1] !== b[1]) out.push([lo[0], Math.min(a[1], b[1]) - 1, hi[0], Math.max(a[1], b[1]) + 1]);
  if (a[3] !== b[3]) out.push([lo[0], Math.min(a[3], b[3]) - 1, hi[0], Math.max(a[3], b[3]) + 1]);
  return out;
}

function intersect(a, b) {
  return [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])];
}

window.ecgInit = async function ecgInit(cfg) {
  state.fps = cfg.fps;
  state.seed = cfg.seed >>> 0;
  state.width = cfg.width;
  state.height = cfg.height;
  // Reach assumed for filters that cannot be sized from their computed value (url(), unknown functions).
  state.pad = cfg.pad ?? Math.round(cfg.height * 0.05) + 16;
  state.tileArea = cfg.tileArea ?? 0;
  state.damage = cfg.damage !== false;
  state.lastSig = null;
  state.lastElems = null;
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
  // Images a manifest lists under `preload` (flames' flame) are decoded before frame 0 and stay
  // referenced: an <img> a plugin creates later is then complete on its first frame, whichever page or
  // chunk renders it, instead of appearing a few frames late depending on load timing.
  state.preloaded = [];
  for (const p of cfg.plugins) {
    const list = p.manifest && Array.isArray(p.manifest.preload) ? p.manifest.preload : [];
    for (const rel of list) {
      if (typeof rel !== "string" || !/\.(svg|png|jpe?g|gif|webp)$/i.test(rel)) continue;
      const img = new Image();
      img.src = new URL(rel, p.baseUrl).toString();
      try {
        await img.decode();
        state.preloaded.push(img);
      } catch (e) {
        pluginErrors.push({ plugin: `${p.name}@${p.version}`, message: `preload ${rel} failed` });
      }
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
  state.styleSheets = document.styleSheets.length;
  state.rootKey = null;
  state.renderer = renderer;
  await nextPaint();
  return { ok: true, userAgent: navigator.userAgent };
};

// Seek frames [from, n) without inspecting or painting: rebuilds exactly the DOM/plugin state a
// sequential run would have at frame n (used before a chunk that does not start at a quiet frame).
window.ecgPreroll = function ecgPreroll(from, to) {
  for (let n = from; n < to; n++) seekFrame(n);
  state.lastSig = null;
  state.lastElems = null;
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
    state.lastElems = info.elems;
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
  if (info.visible) {
    state.lastSig = info.sig;
    state.lastElems = info.elems;
  }
  await nextPaint();
  return { visible: info.visible, sig: info.sig, bbox: info.bbox, changed };
};

// Content a clone cannot show: a video's or canvas's current picture, a frame's document, an SVG <image>
// (loads again in a clone with no way to wait for it). Such a frame is captured whole from the live stage.
// An <img> clones fine: it loads from the memory cache, and the batch waits for every tile image to
// decode before the paint (plugin images are preloaded before frame 0, see ecgInit).
function hasLiveMedia(root) {
  return root.querySelector("video, canvas, iframe, object, embed, svg image") !== null;
}

// Resolves once every <img> in the tile area is decoded (a broken image resolves too: the live stage
// would show it broken as well).
function tileImagesDecoded(tilesEl) {
  return Promise.all(Array.from(tilesEl.querySelectorAll("img"), (img) => img.decode().catch(() => undefined)));
}

// A tile shows `rect` of a clone of the stage at (tx, ty) of the tile area: a frame-sized box holding
// the clone at its true frame coordinates, offset so that rect lands at (tx, ty), clipped to rect by the
// tile. The frame box is a composited layer (will-change in render.html): Chromium rasterizes a layer
// in its own coordinate space and moves it by whole pixels, so the pixels do not depend on where the
// tile lands. Without it, text and rounded boxes are snapped to device pixels after float maths that
// see a different offset for every tile, and a word may land a quarter pixel off in a rare frame.
function makeTile(stage, rect, tx, ty) {
  const [rx, ry, rw, rh] = rect;
  const tile = document.createElement("div");
  tile.className = "ecg-tile";
  tile.style.left = `${tx}px`;
  tile.style.top = `${ty}px`;
  tile.style.width = `${rw}px`;
  tile.style.height = `${rh}px`;
  const frame = document.createElement("div");
  frame.className = "ecg-tile-frame";
  frame.style.left = `${-rx}px`;
  frame.style.top = `${-ry}px`;
  frame.style.width = `${state.width}px`;
  frame.style.height = `${state.height}px`;
  const clone = stage.cloneNode(true);
  clone.removeAttribute("id");
  frame.appendChild(clone);
  tile.appendChild(frame);
  return tile;
}

// A damage rectangle this large is captured as a full frame: a patch would save little.
const FULL_CAPTURE_SHARE = 0.6;

// Batch capture. Seeks frames from..to-1; every frame whose visible state changed is snapshotted
// (a deep clone of the stage: all renderer/plugin state lives in inline styles and the DOM) into a
// tile next to the others in the tile area, clipped to what must be captured: the frame's whole caption
// box ("full"), or only the damage rectangle, the part that differs from the previous capture (a word
// being highlighted, a word popping in). Tiles are packed in shelves until maxTiles tiles or the tile
// area are used; one paint + one screenshot of the tile area then captures the whole batch.
// codes[i] for frame from+i: -1 nothing visible, -2 same as the last capture of an earlier batch,
// k >= 0 same as tile k of this batch. `next` is the first frame not handled (to resume from).
// Each tile: frame, bbox (the whole caption box of that frame), rect (the captured part, in frame
// coordinates), x/y (where rect lies in the viewport), full (rect replaces everything; else it patches
// the previous capture, which is the previous tile or the last tile of the previous batch).
//
// Before the screenshot the batch waits for its tile images to decode and for two rAFs: the second runs
// only once the frame holding the tiles was committed and activated, i.e. rastered. Page.captureScreenshot
// alone forces a redraw that may draw before that raster is done, and on a busy machine a capture then
// showed parts of the previous frame (docs/RENDERING.md).
window.ecgAdvanceBatch = async function ecgAdvanceBatch(from, to, maxTiles) {
  const stage = document.getElementById("stage");
  const tilesEl = document.getElementById("tiles");
  tilesEl.replaceChildren();
  tilesEl.style.visibility = "";
  document.getElementById("frame").style.top = `${state.liveTop}px`;
  const codes = [];
  const tiles = [];
  let last = -2;
  let n = from;
  let live = false;
  // Shelf packing: tiles left to right, a new shelf below when a row is full.
  let packX = 0, shelfY = 0, shelfH = 0, right = 0;
  for (; n < to; n++) {
    seekFrame(n);
    const info = inspect();
    if (!info.visible) { codes.push(-1); continue; }
    if (info.sig === state.lastSig) { codes.push(last); continue; }
    if (tiles.length >= maxTiles) break;
    if (hasLiveMedia(stage)) {
      // Images/videos may not be decoded in a fresh clone: capture this frame whole from the live
      // stage, moved into the viewport for the shot.
      if (tiles.length) break;
      live = true;
      document.getElementById("frame").style.top = "0px";
      tilesEl.style.visibility = "hidden";
      const [bx, by] = info.bbox;
      tiles.push({ frame: n, bbox: info.bbox, rect: info.bbox, x: bx, y: by, full: true, live: true });
      state.lastSig = info.sig;
      state.lastElems = info.elems;
      codes.push(0);
      n++;
      break;
    }
    const [bx, by, bw, bh] = info.bbox;
    const damage = state.damage ? damageOf(state.lastElems, info.elems) : null;
    const full = !damage || damage[2] * damage[3] >= FULL_CAPTURE_SHARE * bw * bh;
    const rect = full ? info.bbox : damage;
    const [rx, ry, rw, rh] = rect;
    let tx = packX, ty = shelfY;
    if (tx + rw > state.width) { tx = 0; ty = shelfY + shelfH; }
    if (ty + rh > state.tileArea) break;
    if (tx === 0 && ty !== shelfY) { shelfY = ty; shelfH = 0; }
    packX = tx + rw;
    shelfH = Math.max(shelfH, rh);
    right = Math.max(right, packX);
    const tile = makeTile(stage, rect, tx, ty);
    tilesEl.appendChild(tile);
    tiles.push({ frame: n, bbox: info.bbox, rect, x: tx, y: state.tilesTop + ty, full, live: false });
    state.lastSig = info.sig;
    state.lastElems = info.elems;
    last = tiles.length - 1;
    codes.push(last);
  }
  if (tiles.length) {
    if (!live) await tileImagesDecoded(tilesEl);
    await nextPaint();
  }
  let clip = null;
  if (tiles.length) {
    clip = live ? tiles[0].bbox : [0, state.tilesTop, right, shelfY + shelfH];
  }
  return { codes, tiles, next: n, clip };
};

window.ecgResetSignature = function ecgResetSignature() {
  state.lastSig = null;
  state.lastElems = null;
};

window.ecgPageReady = true;
