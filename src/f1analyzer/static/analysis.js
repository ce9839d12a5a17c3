// The analyst's charts of the Race explorer (issue 15): race trace, team-mate pace distributions
// with a team pace ranking, and a two-driver lap-time comparison with tyre age. All from the
// race's stored laps (GET /races/{season}/{event}/laps); drawn with charts.js's SVG helpers.

import { compoundStyle, lineChart, niceTicks, quantile, s, statusBands } from "./charts.js";
import { gap as fmtGap, lapTime } from "./format.js";

function clear(container) {
  container.replaceChildren();
  return Math.max(300, Math.floor(container.clientWidth || 600));
}

/** {driver: {lap: session time at lap end}} */
function lapEnds(laps) {
  const out = new Map();
  for (const [drv, rows] of Object.entries(laps.drivers || {})) {
    const m = new Map();
    for (const r of rows) if (Number.isFinite(r.session_time_s)) m.set(r.lap_number, r.session_time_s);
    out.set(drv, m);
  }
  return out;
}

/**
 * Gaps lap by lap: to the leader (the first car to finish each lap) or to ``reference``.
 * Returns {driver: [[lap, gap_s], ...]}.
 */
export function raceTraceGaps(laps, reference = null) {
  const ends = lapEnds(laps);
  const first = new Map();
  for (const m of ends.values()) {
    for (const [lap, t] of m) if (!first.has(lap) || t < first.get(lap)) first.set(lap, t);
  }
  const ref = reference ? ends.get(reference) : first;
  const out = {};
  for (const [drv, m] of ends) {
    out[drv] = [...m].filter(([lap]) => ref && ref.has(lap)).map(([lap, t]) => [lap, t - ref.get(lap)]).sort((a, b) => a[0] - b[0]);
  }
  return out;
}

/** Race trace: gap to the leader (or a reference driver), pit stops ▼ and SC/VSC shaded. */
export function drawRaceTrace(container, { race, laps, colours, highlighted, reference }) {
  const gaps = raceTraceGaps(laps, reference || null);
  const order = (race.results || []).map((r) => r.driver);
  const drivers = Object.keys(gaps).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const shown = [];
  const series = drivers.map((drv) => {
    const c = colours.get(drv) || { color: "#777", dash: "" };
    const muted = !highlighted.has(drv) && drv !== reference;
    if (!muted) shown.push(...gaps[drv].map((p) => p[1]));
    return {
      id: drv, driver: drv, label: drv, color: c.color, dash: c.dash, muted, width: muted ? 1 : 2.2,
      points: gaps[drv].map(([lap, g]) => [lap, g, `${drv} lap ${lap}: ${fmtGap(g)} s`]),
      title: `${drv}: gap to ${reference || "the leader"} by lap`,
    };
  });
  if (!shown.length) {
    container.replaceChildren(Object.assign(document.createElement("p"), { className: "message info", textContent: "No lap end times for the selected drivers." }));
    return null;
  }
  const sorted = shown.slice().sort((a, b) => a - b);
  const lo = Math.min(0, sorted[0]);
  // lapped cars and red-flag laps would squash the field: the axis ends a little past the 95th percentile
  const hi = Math.max(5, Math.min(sorted[sorted.length - 1], quantile(sorted, 0.95) * 1.15));
  const markers = [];
  for (const drv of drivers) {
    if (!highlighted.has(drv) && drv !== reference) continue;
    const byLap = new Map(gaps[drv]);
    for (const r of laps.drivers[drv] || []) {
      if (r.pit_in && byLap.has(r.lap_number)) {
        markers.push({ x: r.lap_number, y: byLap.get(r.lap_number), color: (colours.get(drv) || {}).color || "#777", label: `${drv} pits on lap ${r.lap_number}` });
      }
    }
  }
  const svg = lineChart(container, {
    series, xDomain: [1, race.total_laps], yDomain: [lo - 1, hi], yInvert: true, xLabel: "lap",
    yLabel: reference ? `gap to ${reference} (s)` : "gap to leader (s)", yFormat: (v) => v.toFixed(0),
    labelEnds: true, className: "trace-chart", bands: statusBands(race.track_status_by_lap), markers,
    ariaLabel: `Race trace: gap to ${reference || "the leader"} by lap, ${shown.length ? "highlighted drivers in colour" : ""}; triangles mark pit stops`,
  });
  return svg;
}

/** Fuel-corrected clean laps per driver, slow outliers (> 107 % of the driver's median) dropped. */
export function correctedCleanLaps(laps, totalLaps, fuelPerLap) {
  const out = {};
  for (const [drv, rows] of Object.entries(laps.drivers || {})) {
    const v = rows.filter((r) => r.is_clean && Number.isFinite(r.lap_time_s))
      .map((r) => r.lap_time_s - fuelPerLap * (totalLaps - r.lap_number));
    if (v.length < 3) continue;
    v.sort((a, b) => a - b);
    const med = quantile(v, 0.5);
    out[drv] = v.filter((x) => x <= med * 1.07);
  }
  return out;
}

function stats(v) {
  return { n: v.length, min: v[0], q1: quantile(v, 0.25), med: quantile(v, 0.5), q3: quantile(v, 0.75), max: v[v.length - 1] };
}

/** Team pace ranking: teams by the median of their drivers' corrected clean laps, fastest first. */
export function teamRanking(perDriver, teams) {
  const byTeam = new Map();
  for (const [drv, v] of Object.entries(perDriver)) {
    const t = teams.get(drv) || "?";
    if (!byTeam.has(t)) byTeam.set(t, []);
    byTeam.get(t).push(...v);
  }
  const rows = [...byTeam].map(([team, v]) => ({ team, median: quantile(v.slice().sort((a, b) => a - b), 0.5), n: v.length }));
  rows.sort((a, b) => a.median - b.median);
  return rows.map((r) => ({ ...r, gap: r.median - rows[0].median }));
}

/** Box plots of each driver's corrected clean laps, team mates side by side, teams fastest first. */
export function drawTeamPace(container, { race, laps, colours, fuelPerLap }) {
  const per = correctedCleanLaps(laps, race.total_laps, fuelPerLap);
  const teams = new Map((race.results || []).map((r) => [r.driver, r.team || "?"]));
  const ranking = teamRanking(per, teams);
  const width = clear(container);
  const narrow = width < 560;
  const cols = [];
  for (const { team } of ranking) {
    for (const drv of Object.keys(per).filter((d) => teams.get(d) === team).sort()) cols.push({ drv, team, st: stats(per[drv]) });
  }
  if (!cols.length) {
    container.append(Object.assign(document.createElement("p"), { className: "message info", textContent: "Too few clean laps in this race for pace distributions." }));
    return { svg: null, ranking };
  }
  const all = cols.flatMap((c) => [c.st.q1, c.st.q3, c.st.min, c.st.max]);
  const lo = Math.min(...all) - 0.2;
  const hi = Math.max(...all) + 0.2;
  const height = narrow ? 300 : 340;
  const m = { left: narrow ? 52 : 64, right: 10, top: 14, bottom: narrow ? 70 : 58 };
  const step = (width - m.left - m.right) / cols.length;
  const y = (v) => m.top + (hi - v) / (hi - lo) * (height - m.top - m.bottom);
  const svg = s("svg", { class: "chart box-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Fuel-corrected clean-lap pace of ${cols.length} drivers, teams fastest first: ${ranking.map((r) => r.team).join(", ")}` });
  const axis = s("g", { class: "axis" });
  for (const t of niceTicks(lo, hi, 6)) {
    axis.append(s("line", { class: "grid", x1: m.left, x2: width - m.right, y1: y(t), y2: y(t) }));
    axis.append(s("text", { x: m.left - 6, y: y(t) + 4, "text-anchor": "end" }, lapTime(t).replace(/0+$/, "").replace(/\.$/, "")));
  }
  axis.append(s("text", { class: "axis-title", x: 12, y: (m.top + height - m.bottom) / 2, "text-anchor": "middle",
    transform: `rotate(-90 12 ${(m.top + height - m.bottom) / 2})` }, "corrected lap time"));
  svg.append(axis);
  const plot = s("g", { class: "plot" });
  cols.forEach((c, i) => {
    const cx = m.left + step * (i + 0.5);
    const bw = Math.max(4, Math.min(26, step * 0.6));
    const col = (colours.get(c.drv) || {}).color || "#888";
    const second = Boolean((colours.get(c.drv) || {}).dash);
    const { st } = c;
    const tip = `${c.drv} (${c.team}): median ${lapTime(st.med)}, middle half ${lapTime(st.q1)}–${lapTime(st.q3)}, ${st.n} laps`;
    plot.append(s("g", { class: "box", "data-driver": c.drv }, s("title", {}, tip),
      s("line", { x1: cx, x2: cx, y1: y(st.max), y2: y(st.min), stroke: "currentColor", class: "whisker" }),
      s("rect", { x: cx - bw / 2, y: y(st.q3), width: bw, height: Math.max(1, y(st.q1) - y(st.q3)), fill: col,
        "fill-opacity": second ? 0.35 : 0.85, stroke: col, "stroke-width": 2, "stroke-dasharray": second ? "4 2" : null }),
      s("line", { x1: cx - bw / 2, x2: cx + bw / 2, y1: y(st.med), y2: y(st.med), stroke: "currentColor", "stroke-width": 2, class: "median" }),
      // driver codes turn when the columns are narrower than a code (phones)
      step < 24
        ? s("text", { x: cx, y: height - m.bottom + 10, "text-anchor": "end", class: "tick-label", transform: `rotate(-60 ${cx} ${height - m.bottom + 10})` }, c.drv)
        : s("text", { x: cx, y: height - m.bottom + 14, "text-anchor": "middle", class: "tick-label" }, c.drv)));
  });
  // team names under their drivers
  let i = 0;
  for (const { team } of ranking) {
    const n = cols.filter((c) => c.team === team).length;
    if (!n) continue;
    const cx = m.left + step * (i + n / 2);
    // on a phone the team names would collide: the ranking table below names them
    if (!narrow) plot.append(s("text", { x: cx, y: height - m.bottom + 30, "text-anchor": "middle", class: "team-label" }, team.replace(" F1 Team", "")));
    i += n;
  }
  svg.append(plot);
  container.append(svg);
  return { svg, ranking };
}

/** Two drivers' lap times lap by lap (raw, every timed lap) above their tyre age (FastF1 TyreLife). */
export function drawComparison(timeBox, ageBox, { race, laps, a, b, colours }) {
  const rows = [a, b].map((d) => laps.drivers[d] || []);
  const series = [];
  const ages = [];
  const values = [];
  [a, b].forEach((drv, k) => {
    const c = colours.get(drv) || { color: k ? "#D55E00" : "#0072B2", dash: "" };
    const color = c.color;
    const pts = rows[k].filter((r) => Number.isFinite(r.lap_time_s)).map((r) => {
      values.push(r.lap_time_s);
      return [r.lap_number, r.lap_time_s, `${drv} lap ${r.lap_number}: ${lapTime(r.lap_time_s)} on ${compoundStyle(r.compound).label}, TyreLife ${r.tyre_life_laps ?? "?"}${r.fresh_tyre === false ? " (used set)" : ""}`];
    });
    series.push({ id: drv, driver: drv, label: drv, color, dash: k ? "6 3" : "", points: pts, dots: true, title: `${drv} lap times` });
    ages.push({ id: drv, driver: drv, label: drv, color, dash: k ? "6 3" : "", breakGap: 1,
      points: rows[k].filter((r) => Number.isFinite(r.tyre_life_laps)).map((r) => [r.lap_number, r.tyre_life_laps, `${drv} lap ${r.lap_number}: TyreLife ${r.tyre_life_laps}`]),
      title: `${drv} tyre age` });
  });
  if (!values.length) {
    timeBox.replaceChildren(Object.assign(document.createElement("p"), { className: "message info", textContent: "No lap times for these drivers." }));
    ageBox.replaceChildren();
    return;
  }
  values.sort((x, y) => x - y);
  const lo = values[0];
  const hi = Math.min(values[values.length - 1], quantile(values, 0.9) + 3);
  lineChart(timeBox, {
    series, xDomain: [1, race.total_laps], yDomain: [lo - 0.3, hi], xLabel: "lap", yLabel: "lap time",
    yFormat: (v) => lapTime(v).replace(/\d\d$/, ""), labelEnds: true, breakGap: 1, className: "compare-chart",
    bands: statusBands(race.track_status_by_lap), ariaLabel: `Lap times of ${a} and ${b}, lap by lap`,
  });
  const maxAge = Math.max(1, ...ages.flatMap((x) => x.points.map((p) => p[1])));
  lineChart(ageBox, {
    series: ages, xDomain: [1, race.total_laps], yDomain: [0, maxAge + 1], xLabel: "lap", yLabel: "TyreLife (laps)",
    labelEnds: true, breakGap: 1, height: 170, className: "age-chart", ariaLabel: `Tyre age (TyreLife) of ${a} and ${b} by lap`,
  });
}
