// Hand-written SVG charts for the dashboard: no library, no CDN, no innerHTML with data.
// Every chart takes a container element and plain data, clears the container and draws
// an <svg> sized to the container's width (re-drawn by app.js when the width changes).

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Compound styles: FastF1's compound colours (fastf1.plotting; soft red, medium yellow, hard white,
 * intermediate green, wet blue) plus a pattern and a letter, never colour alone (colour-blind readers).
 * 2018's named compounds (hypersoft … superhard) keep their own colours where a chart names them.
 */
export const COMPOUNDS = {
  SOFT: { letter: "S", label: "Soft", color: "#DA291C", text: "#fff" },
  MEDIUM: { letter: "M", label: "Medium", color: "#FFD12E", text: "#000" },
  HARD: { letter: "H", label: "Hard", color: "#F0F0EC", text: "#000" },
  INTERMEDIATE: { letter: "I", label: "Intermediate", color: "#43B02A", text: "#000" },
  WET: { letter: "W", label: "Wet", color: "#0067AD", text: "#fff" },
  UNKNOWN: { letter: "?", label: "Unknown", color: "#9E9E9E", text: "#000" },
};

/** 2018's named dry compounds (the Pirelli names of that season; FastF1's 2018 colours). */
export const COMPOUNDS_2018 = {
  HYPERSOFT: "#FEB1C1", ULTRASOFT: "#B24BA7", SUPERSOFT: "#FC2B2A", SOFT: "#FFD318",
  MEDIUM: "#F0F0F0", HARD: "#00A2F5", SUPERHARD: "#FD7D3C",
};

export function compoundStyle(name) {
  return COMPOUNDS[String(name || "UNKNOWN").toUpperCase()] || COMPOUNDS.UNKNOWN;
}

export function compoundKey(name) {
  const k = String(name || "UNKNOWN").toUpperCase();
  return COMPOUNDS[k] ? k : "UNKNOWN";
}

/** Line colours for highlighted drivers (Okabe-Ito + two extra dark tones) and dash patterns. */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B"];
export const DASHES = ["", "6 3", "2 3", "8 3 2 3"];

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function title(text) {
  return s("title", {}, text);
}

function fmt(v, digits = 1) {
  return Number.isFinite(v) ? v.toFixed(digits) : "–";
}

export function niceTicks(lo, hi, count = 6) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const span = hi - lo;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm >= 5 ? 10 : norm >= 2 ? 5 : norm >= 1 ? 2 : 1) * mag;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toFixed(10));
  return out;
}

function scale(d0, d1, r0, r1) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Laps under neutralisation from ``{lap: "digits"}``, merged into bands. */
export function statusBands(trackStatusByLap) {
  const kinds = [];
  for (const [lapStr, digits] of Object.entries(trackStatusByLap || {})) {
    const lap = Number(lapStr);
    const d = String(digits || "");
    let kind = null;
    if (d.includes("5")) kind = "RED";
    else if (d.includes("4")) kind = "SC";
    else if (d.includes("6") || d.includes("7")) kind = "VSC";
    if (kind) kinds.push([lap, kind]);
  }
  kinds.sort((a, b) => a[0] - b[0]);
  const bands = [];
  for (const [lap, kind] of kinds) {
    const last = bands[bands.length - 1];
    if (last && last.kind === kind && last.end === lap - 1) last.end = lap;
    else bands.push({ kind, start: lap, end: lap });
  }
  return bands;
}

const BAND_LABEL = { SC: "Safety Car", VSC: "Virtual Safety Car", RED: "Red flag" };

// Laps are spans in bar charts (lap n covers n-1..n) and points in line charts (centred on n).
function drawBands(g, bands, x, top, bottom, { labels = true, centred = false } = {}) {
  for (const b of bands) {
    const x0 = centred ? x(b.start - 0.5) : x(b.start - 1);
    const x1 = centred ? x(b.end + 0.5) : x(b.end);
    const what = `${BAND_LABEL[b.kind]}: lap ${b.start}${b.end > b.start ? `–${b.end}` : ""}`;
    g.append(s("rect", {
      class: `band band-${b.kind.toLowerCase()}`, "data-status": b.kind,
      x: x0, y: top, width: Math.max(1, x1 - x0), height: bottom - top,
    }, title(what)));
    if (labels) {
      g.append(s("text", { class: "band-label", x: (x0 + x1) / 2, y: top - 3, "text-anchor": "middle" }, b.kind));
    }
  }
}

function clear(container) {
  container.replaceChildren();
  return Math.max(300, Math.floor(container.clientWidth || 600));
}

/**
 * Tyre strategy: one bar per classified driver (finishing order), stints coloured by compound
 * with a pattern and letter, pit laps marked, SC/VSC/red-flag laps shaded.
 */
export function strategyChart(container, race) {
  const width = clear(container);
  const results = race.results || [];
  const total = Math.max(1, race.total_laps || 1);
  const narrow = width < 560;
  const m = { left: narrow ? 64 : 78, right: narrow ? 8 : 16, top: 34, bottom: 30 };
  const rowH = narrow ? 20 : 22;
  const barH = rowH - 6;
  const height = m.top + m.bottom + rowH * results.length;
  const x = scale(0, total, m.left, width - m.right);
  const svg = s("svg", {
    class: "chart strategy-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Tyre strategies of ${results.length} classified drivers over ${total} laps, finishing order top to bottom`,
  });
  const stintsBy = groupBy(race.stints || [], (r) => r.driver);
  const stopsBy = groupBy(race.pit_stops || [], (r) => r.driver);
  const bands = statusBands(race.track_status_by_lap);
  const bandG = s("g", { class: "bands" });
  drawBands(bandG, bands, x, m.top - 2, height - m.bottom + 2);
  svg.append(bandG);

  const axis = s("g", { class: "axis" });
  const step = total > 40 ? 10 : 5;
  for (let lap = 0; lap <= total; lap += step) {
    const lx = x(lap);
    axis.append(s("line", { class: "grid", x1: lx, x2: lx, y1: m.top - 4, y2: height - m.bottom + 4 }));
    axis.append(s("text", { x: lx, y: height - m.bottom + 17, "text-anchor": "middle" }, lap === 0 ? "" : lap));
  }
  axis.append(s("text", { class: "axis-title", x: (m.left + width - m.right) / 2, y: height - 2, "text-anchor": "middle" }, "lap"));
  svg.append(axis);

  const rows = s("g", { class: "rows" });
  results.forEach((r, i) => {
    const y = m.top + i * rowH + (rowH - barH) / 2;
    const stints = (stintsBy.get(r.driver) || []).slice().sort((a, b) => a.start_lap - b.start_lap);
    const stops = (stopsBy.get(r.driver) || []).slice().sort((a, b) => a.lap - b.lap);
    const desc = stints.map((st) => `${compoundStyle(st.compound).label} laps ${st.start_lap}–${st.end_lap}`).join(", ");
    const pitDesc = stops.length ? `; pitted on lap ${stops.map((p) => p.lap).join(", ")}` : "; no stop";
    const status = r.finished ? `P${r.position}` : `P${r.position} (retired, ${r.laps} laps)`;
    const row = s("g", {
      class: `row${r.finished ? "" : " dnf"}`, "data-driver": r.driver, "data-position": r.position,
    }, title(`${status} ${r.driver}${r.team ? ` (${r.team})` : ""}: ${desc}${pitDesc}`));
    row.append(s("text", { class: `row-pos${r.finished ? "" : " dnf"}`, x: narrow ? 26 : 30, y: y + barH - 3, "text-anchor": "end" },
      r.finished ? r.position : "DNF"));
    row.append(s("text", { class: "row-label", x: narrow ? 31 : 36, y: y + barH - 3 }, r.driver));
    for (const st of stints) {
      const key = compoundKey(st.compound);
      const style = COMPOUNDS[key];
      const x0 = x(st.start_lap - 1);
      const x1 = x(st.end_lap);
      const w = Math.max(1, x1 - x0);
      // a used set (FastF1 FreshTyre false): paler, and a * after the letter (not colour alone)
      const used = st.fresh_tyre === false;
      const age = used && Number.isFinite(st.tyre_life_start) ? `, used set (TyreLife ${st.tyre_life_start} when fitted)` : used ? ", used set" : "";
      row.append(s("rect", {
        class: `stint${used ? " used" : ""}`, "data-compound": key, x: x0, y, width: w, height: barH, rx: 2,
        fill: `url(#pat-${key})`,
      }, title(`${r.driver} stint ${st.stint}: ${style.label}${st.compound_code ? ` (${st.compound_code})` : ""}${age}, laps ${st.start_lap}–${st.end_lap} (${st.laps} laps)`)));
      if (w >= 14) {
        row.append(s("text", {
          class: "stint-letter", x: x0 + w / 2, y: y + barH - 3.5, "text-anchor": "middle", fill: style.text,
        }, used ? `${style.letter}*` : style.letter));
      }
    }
    for (const p of stops) {
      const px = x(p.lap);
      const why = p.under_sc ? " under Safety Car" : p.under_vsc ? " under VSC" : p.under_red_flag ? " under red flag" : "";
      const dur = Number.isFinite(p.duration_s) ? `, ${fmt(p.duration_s)} s in the pit lane` : "";
      row.append(s("path", {
        class: `pit${why ? " pit-neutral" : ""}`, "data-lap": p.lap,
        d: `M${px - 4},${y - 3} L${px + 4},${y - 3} L${px},${y + 3} Z M${px - 0.75},${y} h1.5 v${barH} h-1.5 Z`,
      }, title(`${r.driver} pit stop ${p.stop_number}: in-lap ${p.lap}${why}${dur} (${p.compound_before || "?"} → ${p.compound_after || "?"})`)));
    }
    if (!r.finished) {
      const ex = x(r.laps);
      row.append(s("text", { class: "dnf-mark", x: Math.min(ex + 4, width - m.right - 2), y: y + barH - 3 }, "✕"));
    }
    rows.append(row);
  });
  svg.append(rows);
  container.append(svg);
  return svg;
}

/**
 * Generic multi-series line chart.
 * opts: {series: [{id, label, color, dash, width, points: [[x, y], ...], muted, dots}],
 *        xDomain, yDomain, yInvert, xLabel, yLabel, yFormat, bands, breakGap, height, labelEnds, ariaLabel}
 */
export function lineChart(container, opts) {
  const width = clear(container);
  const narrow = width < 560;
  const height = opts.height || (narrow ? 280 : 340);
  const labelRoom = opts.labelEnds ? Math.max(...opts.series.map((x) => String(x.label).length)) * 7 + 8 : 14;
  const m = { left: narrow ? 44 : 56, right: Math.min(narrow ? 60 : 80, Math.max(30, labelRoom)), top: 20, bottom: 36 };
  const [x0, x1] = opts.xDomain;
  const [y0, y1] = opts.yDomain;
  const x = scale(x0, x1, m.left, width - m.right);
  const y = opts.yInvert ? scale(y0, y1, m.top, height - m.bottom) : scale(y0, y1, height - m.bottom, m.top);
  const svg = s("svg", {
    class: `chart line-chart ${opts.className || ""}`, width, height, viewBox: `0 0 ${width} ${height}`,
    role: "img", "aria-label": opts.ariaLabel || "",
  });
  const clipId = `clip-${Math.random().toString(36).slice(2, 9)}`;
  svg.append(s("defs", {}, s("clipPath", { id: clipId },
    s("rect", { x: m.left, y: m.top - 4, width: width - m.left - m.right, height: height - m.top - m.bottom + 8 }))));
  if (opts.bands) {
    const bandG = s("g", { class: "bands", "clip-path": `url(#${clipId})` });
    drawBands(bandG, opts.bands, x, m.top, height - m.bottom, { labels: false, centred: true });
    svg.append(bandG);
    for (const b of opts.bands) {
      svg.append(s("text", { class: "band-label", x: x((b.start + b.end) / 2), y: m.top - 4, "text-anchor": "middle" }, b.kind));
    }
  }

  const axis = s("g", { class: "axis" });
  const xt = opts.xTicks || niceTicks(x0, x1, narrow ? 5 : 10);
  for (const t of xt) {
    axis.append(s("line", { class: "grid", x1: x(t), x2: x(t), y1: m.top, y2: height - m.bottom }));
    axis.append(s("text", { x: x(t), y: height - m.bottom + 15, "text-anchor": "middle" }, t));
  }
  const yt = opts.yTicks || niceTicks(Math.min(y0, y1), Math.max(y0, y1), narrow ? 5 : 7);
  const yf = opts.yFormat || ((v) => v);
  for (const t of yt) {
    axis.append(s("line", { class: "grid", x1: m.left, x2: width - m.right, y1: y(t), y2: y(t) }));
    axis.append(s("text", { x: m.left - 6, y: y(t) + 4, "text-anchor": "end" }, yf(t)));
  }
  axis.append(s("text", { class: "axis-title", x: (m.left + width - m.right) / 2, y: height - 4, "text-anchor": "middle" }, opts.xLabel || ""));
  axis.append(s("text", {
    class: "axis-title", x: 12, y: (m.top + height - m.bottom) / 2, "text-anchor": "middle",
    transform: `rotate(-90 12 ${(m.top + height - m.bottom) / 2})`,
  }, opts.yLabel || ""));
  svg.append(axis);

  const plot = s("g", { class: "plot", "clip-path": `url(#${clipId})` });
  const labels = s("g", { class: "end-labels" });
  const ordered = opts.series.slice().sort((a, b) => Number(!a.muted) - Number(!b.muted));
  const gap = opts.breakGap ?? Infinity;
  const ends = [];
  for (const ser of ordered) {
    const pts = ser.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (!pts.length) continue;
    let d = "";
    let prev = null;
    for (const [px, py] of pts) {
      d += `${prev === null || px - prev > gap ? "M" : "L"}${x(px).toFixed(1)},${y(py).toFixed(1)}`;
      prev = px;
    }
    const g = s("g", {
      class: `series${ser.muted ? " muted" : ""}`, "data-driver": ser.driver, "data-series": ser.id,
    }, title(ser.title || ser.label));
    g.append(s("path", {
      d, fill: "none", stroke: ser.muted ? null : ser.color, "stroke-width": ser.width || (ser.muted ? 1 : 2),
      "stroke-dasharray": ser.dash || null, "stroke-linejoin": "round", "stroke-linecap": "round",
    }));
    if (ser.dots && !ser.muted) {
      for (const [px, py, tip] of pts) {
        g.append(s("circle", { cx: x(px), cy: y(py), r: narrow ? 1.8 : 2.2, fill: ser.color },
          title(tip || `${ser.label}: ${px}, ${py}`)));
      }
    }
    plot.append(g);
    if (opts.labelEnds) {
      const [lx, ly] = pts[pts.length - 1];
      ends.push({ ser, x: x(lx) + 4, y: y(Math.min(Math.max(ly, Math.min(y0, y1)), Math.max(y0, y1))) + 4 });
    }
  }
  // end labels: keep them apart vertically (labels at the same x only)
  ends.sort((a, b) => a.x - b.x || a.y - b.y);
  const minGap = 11;
  for (let i = 1; i < ends.length; i++) {
    const prev = ends[i - 1];
    if (Math.abs(ends[i].x - prev.x) < 30 && ends[i].y - prev.y < minGap) ends[i].y = prev.y + minGap;
  }
  for (const e of ends) {
    labels.append(s("text", {
      class: `end-label${e.ser.muted ? " muted" : ""}`, x: e.x, y: e.y, fill: e.ser.muted ? null : e.ser.color,
    }, e.ser.label));
  }
  // point markers (pit stops on the race trace): a small triangle with its own tooltip
  for (const mk of opts.markers || []) {
    if (!Number.isFinite(mk.x) || !Number.isFinite(mk.y)) continue;
    const px = x(mk.x);
    const py = y(Math.min(Math.max(mk.y, Math.min(y0, y1)), Math.max(y0, y1)));
    plot.append(s("path", { class: "marker", d: `M${px - 4},${py - 7}L${px + 4},${py - 7}L${px},${py - 1}Z`, fill: mk.color, stroke: "currentColor", "stroke-width": 0.5 },
      title(mk.label)));
  }
  svg.append(plot, labels);
  container.append(svg);
  return svg;
}

/**
 * Bar histogram of a finishing-position distribution ``{"1": p, ...}``.
 * ``groups``: [{label, color, pattern, hist}] drawn side by side per position.
 */
export function histogramChart(container, groups, { positions, ariaLabel, highlight } = {}) {
  const width = clear(container);
  const narrow = width < 560;
  const height = narrow ? 200 : 230;
  const m = { left: 42, right: 10, top: 14, bottom: 38 };
  const keys = new Set();
  for (const g of groups) for (const k of Object.keys(g.hist || {})) keys.add(Number(k));
  const maxPos = Math.max(positions || 0, ...keys, 1);
  let maxP = 0;
  for (const g of groups) for (const v of Object.values(g.hist || {})) maxP = Math.max(maxP, Number(v) || 0);
  maxP = Math.min(1, Math.max(0.05, maxP * 1.1));
  const slot = (width - m.left - m.right) / maxPos;
  const bw = Math.max(2, (slot * 0.8) / Math.max(1, groups.length));
  const y = scale(0, maxP, height - m.bottom, m.top);
  const svg = s("svg", { class: "chart histogram", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": ariaLabel || "" });
  const axis = s("g", { class: "axis" });
  for (const t of niceTicks(0, maxP, 4)) {
    axis.append(s("line", { class: "grid", x1: m.left, x2: width - m.right, y1: y(t), y2: y(t) }));
    axis.append(s("text", { x: m.left - 5, y: y(t) + 4, "text-anchor": "end" }, `${Math.round(t * 100)}%`));
  }
  const every = slot < 16 ? 2 : 1;
  for (let p = 1; p <= maxPos; p++) {
    if ((p - 1) % every === 0 || p === maxPos) {
      axis.append(s("text", { x: m.left + slot * (p - 0.5), y: height - m.bottom + 14, "text-anchor": "middle" }, p));
    }
  }
  axis.append(s("text", { class: "axis-title", x: (m.left + width) / 2, y: height - 4, "text-anchor": "middle" }, "finishing position"));
  svg.append(axis);
  groups.forEach((g, gi) => {
    const gEl = s("g", { class: "hist-group", "data-series": g.id ?? gi });
    for (let p = 1; p <= maxPos; p++) {
      const v = Number((g.hist || {})[String(p)] || 0);
      if (!v) continue;
      const bx = m.left + slot * (p - 1) + slot * 0.1 + bw * gi;
      gEl.append(s("rect", {
        class: `hist-bar${highlight === p ? " highlight" : ""}`, "data-position": p, x: bx, y: y(v), width: bw,
        height: Math.max(0.5, y(0) - y(v)), fill: g.pattern ? `url(#${g.pattern})` : g.color,
        stroke: g.stroke || null,
      }, title(`${g.label ? `${g.label}: ` : ""}position ${p}: ${(v * 100).toFixed(1)}% of races`)));
    }
    svg.append(gEl);
  });
  container.append(svg);
  return svg;
}

/**
 * Planned strategies as bars: one row per plan, stints by compound, pit windows bracketed.
 * plans: [{id, label, compounds: [...], pit_laps: [...], pit_windows: [[a, b], ...]}]
 */
export function planChart(container, plans, totalLaps) {
  const width = clear(container);
  const narrow = width < 560;
  const m = { left: narrow ? 34 : 44, right: 12, top: 12, bottom: 26 };
  const rowH = 30;
  const barH = 16;
  const height = m.top + m.bottom + rowH * plans.length;
  const total = Math.max(1, totalLaps || 1);
  const x = scale(0, total, m.left, width - m.right);
  const svg = s("svg", { class: "chart plan-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Ranked strategies over ${total} laps with their pit windows` });
  const axis = s("g", { class: "axis" });
  const step = total > 40 ? 10 : 5;
  for (let lap = 0; lap <= total; lap += step) {
    axis.append(s("line", { class: "grid", x1: x(lap), x2: x(lap), y1: m.top, y2: height - m.bottom }));
    axis.append(s("text", { x: x(lap), y: height - m.bottom + 15, "text-anchor": "middle" }, lap || ""));
  }
  svg.append(axis);
  plans.forEach((p, i) => {
    const y = m.top + i * rowH + 8;
    const g = s("g", { class: "plan", "data-rank": p.id });
    g.append(s("text", { class: "row-label", x: m.left - 6, y: y + barH - 3, "text-anchor": "end" }, p.label));
    const edges = [0, ...(p.pit_laps || []), total];
    (p.compounds || []).forEach((c, k) => {
      const key = compoundKey(c);
      const a = edges[k] ?? 0;
      const b = edges[k + 1] ?? total;
      const w = Math.max(1, x(b) - x(a));
      g.append(s("rect", { class: "stint", "data-compound": key, x: x(a), y, width: w, height: barH, rx: 2, fill: `url(#pat-${key})` },
        title(`${COMPOUNDS[key].label}: laps ${a + 1}–${b}`)));
      if (w >= 14) g.append(s("text", { class: "stint-letter", x: x(a) + w / 2, y: y + barH - 3.5, "text-anchor": "middle", fill: COMPOUNDS[key].text }, COMPOUNDS[key].letter));
    });
    (p.pit_windows || []).forEach((win, k) => {
      if (!Array.isArray(win) || win.length < 2) return;
      const [a, b] = win;
      g.append(s("rect", { class: "window", x: x(a - 1), y: y - 5, width: Math.max(2, x(b) - x(a - 1)), height: barH + 10 },
        title(`Stop ${k + 1} window: laps ${a}–${b}`)));
    });
    (p.pit_laps || []).forEach((lap) => {
      const px = x(lap);
      g.append(s("path", { class: "pit", d: `M${px - 4},${y - 3} L${px + 4},${y - 3} L${px},${y + 3} Z M${px - 0.75},${y} h1.5 v${barH} h-1.5 Z` },
        title(`Pit at the end of lap ${lap}`)));
    });
    svg.append(g);
  });
  container.append(svg);
  return svg;
}

export function groupBy(items, keyFn) {
  const out = new Map();
  for (const it of items) {
    const k = keyFn(it);
    if (!out.has(k)) out.set(k, []);
    out.get(k).push(it);
  }
  return out;
}

export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
