// Season views (issue 15): one driver's strategies at every race of a season at a glance, and one
// circuit's degradation curves season by season. Data: GET /seasons/{season}/strategies and
// GET /seasons/degradation/{circuit} (stored laps only).

import { COMPOUNDS, PALETTE, compoundKey, lineChart, s } from "./charts.js";
import { compoundCode } from "./format.js";

function clear(container) {
  container.replaceChildren();
  return Math.max(300, Math.floor(container.clientWidth || 600));
}

/** One row per race: the driver's stints across the race distance (0–100 %), finish at the right. */
export function drawSeasonStrategies(container, data, driver) {
  const width = clear(container);
  const narrow = width < 560;
  const entries = new Map((data.drivers[driver] || []).map((e) => [e.round, e]));
  const races = data.races.filter((r) => entries.has(r.round));
  if (!races.length) {
    container.append(Object.assign(document.createElement("p"), { className: "message message-info", textContent: `${driver} has no stored race in ${data.season}.` }));
    return null;
  }
  const rowH = 22;
  const m = { left: narrow ? 92 : 150, right: 44, top: 10, bottom: 28 };
  const height = m.top + m.bottom + races.length * rowH;
  const x = (f) => m.left + f * (width - m.left - m.right);
  const svg = s("svg", { class: "chart season-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${driver}'s tyre strategies at ${races.length} races of ${data.season}` });
  const axis = s("g", { class: "axis" });
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    axis.append(s("line", { class: "grid", x1: x(f), x2: x(f), y1: m.top, y2: height - m.bottom }));
    axis.append(s("text", { x: x(f), y: height - m.bottom + 14, "text-anchor": "middle" }, `${Math.round(f * 100)}%`));
  }
  axis.append(s("text", { class: "axis-title", x: (m.left + width - m.right) / 2, y: height - 2, "text-anchor": "middle" }, "race distance"));
  svg.append(axis);
  races.forEach((race, i) => {
    const e = entries.get(race.round);
    const y = m.top + i * rowH + 3;
    const barH = rowH - 7;
    const name = narrow ? (race.circuit || race.event).slice(0, 12) : `R${race.round} ${race.circuit || race.event}`;
    const row = s("g", { class: "row", "data-round": race.round },
      s("text", { class: "row-label", x: m.left - 6, y: y + barH - 3, "text-anchor": "end" }, name));
    for (const st of e.stints) {
      const key = compoundKey(st.compound);
      const x0 = x((st.start_lap - 1) / race.total_laps);
      const x1 = x(Math.min(1, st.end_lap / race.total_laps));
      const code = compoundCode(key, race.compounds);
      const used = st.fresh_tyre === false ? ", used set" : "";
      row.append(s("rect", { class: "stint", x: x0, y, width: Math.max(1, x1 - x0 - 1), height: barH, rx: 2, fill: `url(#pat-${key})` },
        s("title", {}, `${race.event}: ${COMPOUNDS[key].label}${code ? ` (${code})` : ""}${used}, laps ${st.start_lap}–${st.end_lap}`)));
      if (x1 - x0 >= 14) row.append(s("text", { class: "stint-letter", x: (x0 + x1) / 2, y: y + barH - 3.5, "text-anchor": "middle" }, COMPOUNDS[key].letter));
    }
    row.append(s("text", { class: "row-label", x: width - m.right + 6, y: y + barH - 3 }, e.finished ? `P${e.position ?? "?"}` : "DNF"));
    svg.append(row);
  });
  container.append(svg);
  return svg;
}

/** One line per season: median lap-time change against tyre age for ``compound`` at the circuit. */
export function drawDegradationBySeason(container, data, compound) {
  const series = data.seasons.filter((x) => x.curves[compound]).map((x, i) => ({
    id: String(x.season), label: String(x.season), color: PALETTE[i % PALETTE.length], dash: i >= PALETTE.length ? "6 3" : "",
    points: x.curves[compound].map(([age, d, n]) => [age, d, `${x.season} ${compound}${compoundCode(compound, x.compounds) ? ` (${compoundCode(compound, x.compounds)})` : ""}, TyreLife ${age}: ${d >= 0 ? "+" : ""}${d.toFixed(2)} s vs the driver's median (${n} laps)`]),
    dots: true, title: `${x.season}: ${compound}`,
  }));
  if (!series.length) {
    clear(container);
    container.append(Object.assign(document.createElement("p"), { className: "message message-info", textContent: `No season here has enough clean ${compound.toLowerCase()} laps.` }));
    return null;
  }
  const ys = series.flatMap((x) => x.points.map((p) => p[1]));
  const xs = series.flatMap((x) => x.points.map((p) => p[0]));
  return lineChart(container, {
    series, xDomain: [1, Math.max(...xs)], yDomain: [Math.min(...ys) - 0.1, Math.max(...ys) + 0.1], xLabel: "TyreLife (laps on the set)",
    yLabel: "vs driver's median (s)", yFormat: (v) => v.toFixed(1), labelEnds: true, breakGap: 3, className: "season-deg-chart",
    ariaLabel: `${compound} lap-time change against tyre age at ${data.circuit}, one line per season: ${series.map((x) => x.label).join(", ")}`,
  });
}
