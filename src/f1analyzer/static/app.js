// F1 Race Strategy Analyzer dashboard. Plain ES module, no build step, no CDN.
//
// Routes (URL hash):  #/race/<season>/<round or event>[/lab|/live|/ask]   or   #/lab, #/live, #/ask
// Each section calls its endpoint; an endpoint the server does not offer (checked in /openapi.json)
// or one that answers 404/503 shows a clear message in that section only.

import {
  COMPOUNDS, COMPOUNDS_2018, DASHES, PALETTE, compoundKey, compoundStyle, groupBy, histogramChart, lineChart,
  niceTicks, planChart, quantile, statusBands, strategyChart,
} from "./charts.js";
import { initRaceDay } from "./raceday.js";
import { drawComparison, drawRaceTrace, drawTeamPace } from "./analysis.js";
import { addExportButtons } from "./export.js";
import { compoundCode, lapTime } from "./format.js";
import { initTheme } from "./theme.js";
import { drawDegradationBySeason, drawSeasonStrategies } from "./season.js";
import { initIngest } from "./ingest.js";

const DEFAULT_FUEL_S_PER_LAP = 0.06;
const TABS = ["race", "lab", "live", "raceday", "ask"];
const DEFAULT_HIGHLIGHT = 5;
const RACE_BOXES = ["#strategy-chart", "#pace-chart", "#position-chart", "#deg-chart", "#trace-chart", "#teampace-chart", "#compare-chart", "#season-chart", "#season-deg-chart"];

const state = {
  paths: null,          // openapi paths (normalised) or null when unknown
  races: [],            // /races data
  race: null,           // /races/{s}/{e} detail
  laps: null,           // /races/{s}/{e}/laps
  circuit: null,        // /circuits/{key} or null
  circuitError: null,
  fuel: { value: DEFAULT_FUEL_S_PER_LAP, source: "default" },
  highlighted: new Set(),
  colours: new Map(),
  tab: "race",
  loadToken: 0,
  lastWidth: 0,
};

const $ = (sel) => document.querySelector(sel);

// ------------------------------------------------------------------ DOM helpers
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function message(kind, text, extra) {
  const icon = { info: "ℹ", warn: "⚠", error: "✕", loading: "…" }[kind] || "";
  return h("div", { class: `message message-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", { class: "message-icon", "aria-hidden": "true" }, icon), h("span", { class: "message-text" }, text), extra || null);
}

function show(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  el.removeAttribute("aria-busy");
}

function fmt(v, digits = 1, unit = "") {
  return Number.isFinite(v) ? `${Number(v).toFixed(digits)}${unit}` : "–";
}

function pct(p, digits = 0) {
  return Number.isFinite(p) ? `${(p * 100).toFixed(digits)}%` : "–";
}

/** A compound's name with the event's Pirelli code beside it: "Soft (C5)" (dry compounds, codes known). */
function compoundName(name) {
  const code = compoundCode(name, state.race?.compounds);
  return code ? `${compoundStyle(name).label} (${code})` : compoundStyle(name).label;
}

function compoundChip(name) {
  const key = compoundKey(name);
  const st = COMPOUNDS[key];
  const code = compoundCode(key, state.race?.compounds);
  const letter = h("span", { class: "chip-letter", "aria-hidden": "true" }, st.letter);
  // 2018's named compounds (ULTRASOFT, SUPERSOFT, ...) keep their own colour, as FastF1 draws them
  if (COMPOUNDS_2018[code]) letter.style.backgroundColor = COMPOUNDS_2018[code];
  return h("span", { class: `chip chip-${key.toLowerCase()}`, title: code ? `${st.label} (${code})` : st.label },
    letter, h("span", { class: "chip-text" }, st.label), code ? h("span", { class: "chip-code" }, code) : null);
}

// ------------------------------------------------------------------ API
class ApiError extends Error {
  constructor(status, code, msg, details) {
    super(msg);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

const KEY_STORE = "f1a-api-key";

function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORE) || "";
  } catch {
    return "";
  }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) headers["X-API-Key"] = key;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    let code = err.code || "http_error";
    const msg = err.message || (data && typeof data.detail === "string" ? data.detail : res.statusText) || `HTTP ${res.status}`;
    if ((res.status === 404 && /^not found$/i.test(msg)) || res.status === 405) code = "endpoint_missing";
    throw new ApiError(res.status, code, msg, err.details);
  }
  return data;
}

const normPath = (p) => p.replace(/\{[^}]+\}/g, "{}");

/** Does the server offer this endpoint? Unknown (no /openapi.json) counts as yes. */
function offers(method, path) {
  if (!state.paths) return true;
  const ops = state.paths.get(normPath(path));
  return !!(ops && ops.has(method.toLowerCase()));
}

/** The path of the first offered endpoint whose path matches ``re`` (for endpoints still in flux). */
function findEndpoint(method, re, fallback) {
  if (!state.paths) return fallback;
  for (const [p, ops] of state.paths) if (re.test(p) && ops.has(method.toLowerCase())) return p;
  return null;
}

function unavailable(what, method, path) {
  return message("info", `${what} is not available on this server yet (${method} ${path} is not deployed).`);
}

/** A clear message for a failed call; unexpected JS errors are re-thrown to surface in the console. */
function explain(err, what) {
  if (!(err instanceof ApiError)) throw err;
  if (err.code === "endpoint_missing") return message("info", `${what} is not available on this server yet.`);
  if (err.status === 503) return message("warn", `${what} is unavailable right now: ${err.message}`);
  if (err.status === 0) return message("error", `${what}: ${err.message}`);
  if (err.status === 429) return message("warn", `${what}: too many requests, try again in a minute.`);
  if (err.status === 401 || err.status === 403) {
    $("#api-key-box").open = true;
    return message("warn", `${what}: ${err.message} Enter a key under “API key” at the bottom of the page.`);
  }
  const sugg = err.details && Array.isArray(err.details.suggestions) && err.details.suggestions.length
    ? ` Did you mean: ${err.details.suggestions.slice(0, 5).join(", ")}?` : "";
  const kind = err.status >= 500 ? "error" : "warn";
  return message(kind, `${what}: ${err.message}${sugg}`);
}

async function loadOpenapi() {
  try {
    const spec = await api("/openapi.json");
    const m = new Map();
    for (const [p, ops] of Object.entries(spec.paths || {})) m.set(normPath(p), new Set(Object.keys(ops)));
    state.paths = m;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    state.paths = null;
  }
}

// ------------------------------------------------------------------ status strip
async function refreshHealth() {
  const el = $("#status");
  let data;
  try {
    data = await api("/health");
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    el.replaceChildren(h("span", { class: "badge badge-down", "data-status": "down" }, "✕ offline"),
      h("span", { class: "status-text" }, err.message));
    return;
  }
  const healthy = data.status === "healthy";
  const items = Object.entries(data.components || {}).map(([name, ok]) => h("li", {
    class: `component ${ok ? "ok" : "down"}`, "data-component": name, "data-ok": String(!!ok),
    title: `${name.replace(/_/g, " ")}: ${ok ? "working" : "not available"}`,
  }, h("span", { class: "dot", "aria-hidden": "true" }, ok ? "✓" : "✕"),
  h("span", { class: "component-name" }, name.replace(/_/g, " ")),
  h("span", { class: "visually-hidden" }, ok ? " working" : " not available")));
  const reasons = data.reasons || [];
  show(el,
    h("span", { class: `badge ${healthy ? "badge-ok" : "badge-degraded"}`, "data-status": data.status },
      healthy ? "✓ healthy" : "⚠ degraded"),
    h("ul", { class: "components", "aria-label": "Components" }, items),
    reasons.length ? h("details", { class: "reasons" }, h("summary", {}, `${reasons.length} reason${reasons.length > 1 ? "s" : ""}`),
      h("ul", {}, reasons.map((r) => h("li", {}, r)))) : null,
    data.version ? h("span", { class: "version" }, `v${data.version}`) : null,
  );
}

// ------------------------------------------------------------------ routing
function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "race" && parts.length >= 3) {
    const tab = TABS.includes(parts[3]) ? parts[3] : "race";
    return { season: Number(parts[1]), event: parts[2], tab };
  }
  if (TABS.includes(parts[0])) return { tab: parts[0] };
  return { tab: "race" };
}

function raceHash(season, event, tab = "race") {
  return `#/race/${season}/${encodeURIComponent(event)}${tab === "race" ? "" : `/${tab}`}`;
}

function currentRaceRef() {
  return state.race ? [state.race.season, state.race.round] : null;
}

function setTab(tab) {
  state.tab = tab;
  for (const p of document.querySelectorAll(".panel")) p.hidden = p.dataset.panel !== tab;
  const ref = currentRaceRef();
  for (const a of document.querySelectorAll(".tabs a")) {
    const t = a.dataset.tab;
    a.href = ref ? raceHash(ref[0], ref[1], t) : (t === "race" ? "#/" : `#/${t}`);
    if (t === tab) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (tab === "race") redrawRaceCharts();
}

async function route() {
  const r = parseHash();
  if (r.season && r.event) {
    const ref = currentRaceRef();
    const same = ref && ref[0] === r.season && (String(ref[1]) === String(r.event) || state.race.event === r.event);
    if (!same) await loadRace(r.season, r.event);
  } else if (!state.race && state.races.length) {
    const last = state.races[state.races.length - 1];
    await loadRace(last.season, last.round);
  }
  setTab(r.tab);
  if (state.race) {
    const want = raceHash(state.race.season, state.race.round, r.tab);
    if (location.hash !== want) history.replaceState(null, "", want);
  }
}

// ------------------------------------------------------------------ race selection
function fillSeasonSelect(selected) {
  const seasons = [...new Set(state.races.map((r) => r.season))].sort((a, b) => b - a);
  const sel = $("#season-select");
  sel.replaceChildren(...seasons.map((s) => h("option", { value: s, selected: s === selected }, s)));
  sel.disabled = !seasons.length;
}

function fillRaceSelect(season, round) {
  const sel = $("#race-select");
  const races = state.races.filter((r) => r.season === season);
  sel.replaceChildren(...races.map((r) => h("option", { value: r.round, selected: r.round === round },
    `R${r.round} ${r.event}`)));
  sel.disabled = !races.length;
}

async function loadRaces() {
  try {
    const data = await api("/races");
    state.races = (data.data || []).slice().sort((a, b) => a.season - b.season || a.round - b.round);
  } catch (err) {
    show($("#global-message"), explain(err, "The race list"));
    state.races = [];
  }
  $("#demo-note").hidden = !state.races.some((r) => r.demo);
  if (!state.races.length) {
    if (!$("#global-message").childElementCount) {
      show($("#global-message"), message("info", "No races are stored yet. Whole seasons: f1analyzer ingest --live --season 2024 (FastF1, needs the internet) or f1analyzer ingest PATH with FastF1-format lap files; f1analyzer demo load adds four 2024 demo races."));
    }
    for (const id of RACE_BOXES) show($(id), message("info", "No race selected."));
  }
}

async function loadRace(season, event) {
  const token = ++state.loadToken;
  for (const id of RACE_BOXES) {
    $(id).setAttribute("aria-busy", "true");
    $(id).replaceChildren(message("loading", "Loading…"));
  }
  const path = `/races/${encodeURIComponent(season)}/${encodeURIComponent(event)}`;
  const [detail, laps] = await Promise.allSettled([api(path), api(`${path}/laps`)]);
  if (token !== state.loadToken) return;
  if (detail.status === "rejected") {
    if (!(detail.reason instanceof ApiError)) throw detail.reason;
    state.race = null;
    state.laps = null;
    show($("#global-message"), explain(detail.reason, `Race ${season} ${event}`));
    for (const id of RACE_BOXES) show($(id), message("info", "No race selected."));
    return;
  }
  $("#global-message").replaceChildren();
  state.race = detail.value;
  state.laps = laps.status === "fulfilled" ? laps.value : null;
  state.lapsError = laps.status === "rejected" ? laps.reason : null;
  if (state.lapsError && !(state.lapsError instanceof ApiError)) throw state.lapsError;
  fillSeasonSelect(state.race.season);
  fillRaceSelect(state.race.season, state.race.round);
  const r = state.race;
  const compounds = (r.compounds || []).length ? ` · Hard ${r.compounds[0]} / Medium ${r.compounds[1]} / Soft ${r.compounds[2]}` : "";
  $("#race-meta").textContent = `${r.event} ${r.season}${r.circuit ? ` (${r.circuit})` : ""} · ${r.total_laps} laps · ${r.drivers} drivers${compounds}${r.demo ? " · demo race" : ""}`;
  document.title = `${r.event} ${r.season} – F1 Race Strategy Analyzer`;
  assignColours();
  fillDriverControls();
  await loadCircuit(token);
  if (token !== state.loadToken) return;
  redrawRaceCharts(true);
}

async function loadCircuit(token) {
  state.circuit = null;
  state.circuitError = null;
  state.fuel = { value: DEFAULT_FUEL_S_PER_LAP, source: "default" };
  const key = state.race.circuit_key;
  if (!key || !offers("get", "/circuits/{key}")) {
    state.circuitError = "missing";
    return;
  }
  try {
    const c = await api(`/circuits/${encodeURIComponent(key)}`);
    if (token !== state.loadToken) return;
    state.circuit = c;
    const fuel = findFuelEffect(c);
    if (fuel !== null) state.fuel = { value: fuel, source: "circuit" };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    state.circuitError = err;
  }
}

/** The circuit model's fuel effect (s per lap of fuel), wherever the response keeps it. */
function findFuelEffect(obj) {
  if (obj && Number.isFinite(obj.fuel_effect_s_per_lap)) return obj.fuel_effect_s_per_lap;
  const found = [];
  const walk = (o, path) => {
    if (!o || typeof o !== "object") return;
    for (const [k, v] of Object.entries(o)) {
      const p = `${path}.${k}`.toLowerCase();
      if (typeof v === "number" && p.includes("fuel") && /(effect|s_per_lap|per_lap)/.test(p) && !/kg_per/.test(p)) found.push(v);
      else if (v && typeof v === "object" && !Array.isArray(v)) walk(v, p);
    }
  };
  walk(obj, "");
  const ok = found.filter((v) => Number.isFinite(v) && v > 0 && v < 0.5);
  return ok.length ? ok[0] : null;
}

function assignColours() {
  state.colours.clear();
  const results = state.race.results || [];
  // team colours from the API (data/teams.py: same driver, same colour on every page), team mates
  // told apart by dash; the palette only when an older server sends none
  results.forEach((r, i) => state.colours.set(r.driver, r.color
    ? { color: r.color, dash: r.dash || "" }
    : { color: PALETTE[i % PALETTE.length], dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] }));
  state.highlighted = new Set(results.slice(0, DEFAULT_HIGHLIGHT).map((r) => r.driver));
}

/** A colour swatch; the colour set through CSSOM (the page's CSP refuses inline style attributes). */
function colourSwatch(cls, color) {
  const el = h("span", { class: cls, "aria-hidden": "true" });
  el.style.backgroundColor = color;
  return el;
}

function fillDriverControls() {
  const results = state.race.results || [];
  const chips = $("#driver-chips");
  const legend = chips.querySelector("legend");
  chips.replaceChildren(legend, ...results.map((r) => {
    const c = state.colours.get(r.driver);
    const input = h("input", { type: "checkbox", value: r.driver, checked: state.highlighted.has(r.driver) });
    input.addEventListener("change", () => {
      if (input.checked) state.highlighted.add(r.driver);
      else state.highlighted.delete(r.driver);
      drawPace();
      drawPositions();
      drawTrace();
    });
    return h("label", { class: "driver-chip", title: `${r.driver}${r.team ? ` – ${r.team}` : ""}` }, input,
      colourSwatch(`swatch${c.dash ? " dashed" : ""}`, c.color),
      r.driver);
  }));
  const opts = (sel) => results.map((r) => h("option", { value: r.driver, selected: r.position === 1 && sel !== "#live-driver" }, `${r.driver}${r.team ? ` (${r.team})` : ""}`));
  for (const sel of ["#lab-driver", "#whatif-driver", "#live-driver"]) $(sel).replaceChildren(...opts(sel));
  $("#trace-ref").replaceChildren(h("option", { value: "" }, "the leader"), ...results.map((r) => h("option", { value: r.driver }, r.driver)));
  const plain = () => results.map((r) => h("option", { value: r.driver }, `${r.driver}${r.team ? ` (${r.team})` : ""}`));
  $("#compare-a").replaceChildren(...plain());
  $("#compare-b").replaceChildren(...plain());
  if (results[1]) $("#compare-b").value = results[1].driver;
  $("#season-driver").replaceChildren(...plain());
  $("#lab-grid").max = results.length || 30;
  $("#live-position").max = results.length || 30;
  $("#whatif-lap").max = state.race.total_laps;
  $("#whatif-from").max = state.race.total_laps;
  $("#live-lap").max = state.race.total_laps;
  if (!$("#whatif-lap").value) $("#whatif-lap").value = Math.max(1, Math.round(state.race.total_laps / 3));
  if (Number($("#live-lap").value) > state.race.total_laps) $("#live-lap").value = Math.max(1, Math.round(state.race.total_laps / 2));
  const lap1 = lapOnePositions();
  $("#lab-driver").onchange = () => { $("#lab-grid").value = lap1.get($("#lab-driver").value) || ""; };
  $("#lab-driver").onchange();
  if (results[0]) $("#live-driver").value = results[Math.min(3, results.length - 1)].driver;
  prefillLive();
  for (const id of ["#lab-results", "#whatif-results", "#live-results"]) $(id).replaceChildren();
  markAvailability();
}

/** Position after lap 1 (a stand-in for the grid slot, which the lap data does not hold). */
function lapOnePositions() {
  const out = new Map();
  for (const [drv, laps] of Object.entries(state.laps?.drivers || {})) {
    const l1 = laps.find((l) => l.lap_number === 1);
    if (l1 && Number.isFinite(l1.position)) out.set(drv, l1.position);
  }
  return out;
}

// ------------------------------------------------------------------ race charts
function redrawRaceCharts(force = false) {
  if (!state.race || state.tab !== "race") return;
  const w = $("#strategy-chart").clientWidth;
  if (!force && w === state.lastWidth) return;
  state.lastWidth = w;
  drawStrategy();
  drawPace();
  drawPositions();
  drawDegradation();
  drawTrace();
  drawTeamPaceCard();
  drawCompare();
  drawSeasonCards();
}

/** GET once per season / circuit: the season views do not change with the race picked. */
const seasonCache = new Map();
async function cached(path) {
  if (!seasonCache.has(path)) seasonCache.set(path, api(path).catch((err) => { seasonCache.delete(path); throw err; }));
  return seasonCache.get(path);
}

function drawSeasonCards() {
  if (!state.race) return;
  const { season, circuit_key: key } = state.race;
  const token = state.loadToken;
  const box = $("#season-chart");
  const degBox = $("#season-deg-chart");
  if (!offers("get", "/seasons/{season}/strategies")) {
    show(box, unavailable("The season view", "GET", "/seasons/{season}/strategies"));
    show(degBox, unavailable("Degradation across seasons", "GET", "/seasons/degradation/{circuit}"));
    return;
  }
  cached(`/seasons/${season}/strategies`).then((data) => {
    if (token !== state.loadToken) return;
    const drv = $("#season-driver").value || state.race.results?.[0]?.driver;
    drawSeasonStrategies(box, data, drv);
    box.removeAttribute("aria-busy");
  }).catch((err) => show(box, explain(err, "The season view")));
  if (offers("get", "/seasons/{season}/preview")) {
    cached(`/seasons/${season}/preview`).then((data) => {
      if (token !== state.loadToken) return;
      drawSeasonPreview(data, $("#season-driver").value || state.race.results?.[0]?.driver);
    }).catch((err) => show($("#season-preview"), explain(err, "The pre-race preview")));
  }
  cached(`/seasons/degradation/${encodeURIComponent(key)}`).then((data) => {
    if (token !== state.loadToken) return;
    $("#season-deg-caption").textContent = `${data.circuit}: ${data.method}`;
    drawDegradationBySeason(degBox, data, $("#season-deg-compound").value);
    degBox.removeAttribute("aria-busy");
  }).catch((err) => show(degBox, explain(err, "Degradation across seasons")));
}

/** The saved `f1analyzer season-preview` of the season: the driver's pre-race optimum at each race. */
function drawSeasonPreview(data, driver) {
  const box = $("#season-preview");
  if (!data.available) {
    box.replaceChildren(h("p", { class: "caption" }, data.message));
    return;
  }
  const rows = (data.rows || []).filter((r) => r.driver === driver);
  const pct = (p) => (p == null ? "–" : `${Math.round(100 * p)} %`);
  const fmt = (x, d) => (x == null ? "–" : Number(x).toFixed(d));
  $("#season-preview-caption").textContent = `${driver}'s pre-race optimum and expected points before each race of ${data.season} (${data.n_sims} simulations per finalist plan, models fitted on earlier races only; f1analyzer season-preview, seed ${data.seed}).`;
  if (!rows.length) {
    box.replaceChildren(h("p", { class: "caption" }, `The saved preview of ${data.season} has no rows for ${driver}.`));
    return;
  }
  box.replaceChildren(h("table", { class: "compact" },
    h("thead", {}, h("tr", {}, ...["Round", "Event", "Grid", "Pre-race plan", "Expected points", "Expected position if classified", "Win", "Podium"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, r.round), h("th", { scope: "row" }, r.event), h("td", {}, r.grid),
      h("td", {}, r.strategy), h("td", {}, fmt(r.expected_points, 1)), h("td", {}, fmt(r.expected_position_if_classified, 1)),
      h("td", {}, pct(r.p_win)), h("td", {}, pct(r.p_podium)))))));
}

function drawTrace() {
  const box = $("#trace-chart");
  if (!state.race || lapsUnavailable(box)) return;
  drawRaceTrace(box, { race: state.race, laps: state.laps, colours: state.colours, highlighted: state.highlighted, reference: $("#trace-ref").value || null });
  box.removeAttribute("aria-busy");
}

function drawTeamPaceCard() {
  const box = $("#teampace-chart");
  if (!state.race || lapsUnavailable(box)) return;
  const fuel = state.fuel.value;
  $("#teampace-caption").textContent = `Method: each driver's clean laps (green flag, no in/out lap, accurate timing), fuel-corrected as lap time − ${fuel.toFixed(3)} s × laps remaining (${state.fuel.source === "circuit" ? "the circuit model's fuel effect" : "default fuel effect"}), laps slower than 107 % of the driver's median dropped. Box: middle half of the laps; line: median; whiskers: fastest and slowest. Teams ordered by the median of both drivers' laps; a team's second driver has the paler, dashed box.`;
  const { ranking } = drawTeamPace(box, { race: state.race, laps: state.laps, colours: state.colours, fuelPerLap: fuel });
  box.removeAttribute("aria-busy");
  $("#teampace-table").replaceChildren(h("table", {},
    h("thead", {}, h("tr", {}, ...["Rank", "Team", "Median corrected lap", "Gap to fastest (s)", "Clean laps"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ranking.map((r, i) => h("tr", {}, h("td", {}, i + 1), h("th", { scope: "row" }, r.team), h("td", {}, lapTime(r.median)),
      h("td", {}, `+${r.gap.toFixed(3)}`), h("td", {}, r.n))))));
}

function drawCompare() {
  const box = $("#compare-chart");
  if (!state.race || lapsUnavailable(box)) return;
  const a = $("#compare-a").value;
  const b = $("#compare-b").value;
  if (!a || !b) return;
  drawComparison(box, $("#age-chart"), { race: state.race, laps: state.laps, a, b, colours: state.colours });
  box.removeAttribute("aria-busy");
}

function drawLegend() {
  const used = new Set((state.race?.stints || []).map((s) => compoundKey(s.compound)));
  const keys = Object.keys(COMPOUNDS).filter((k) => used.has(k) || ["SOFT", "MEDIUM", "HARD"].includes(k));
  const sw = (k) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    for (const [a, v] of Object.entries({ width: 22, height: 14, rx: 2, fill: `url(#pat-${k})`, class: "stint" })) rect.setAttribute(a, v);
    svg.append(rect);
    return svg;
  };
  const bands = [["SC", "Safety Car"], ["VSC", "VSC"], ["RED", "Red flag"]];
  $("#compound-legend").replaceChildren(
    ...keys.map((k) => h("li", { "data-compound": k }, sw(k), h("span", {}, `${COMPOUNDS[k].letter} = ${compoundName(k)}`))),
    ...bands.map(([k, label]) => h("li", {}, h("span", { class: `band-swatch band-${k.toLowerCase()}`, "aria-hidden": "true" }), label)),
  );
}

function drawStrategy() {
  const box = $("#strategy-chart");
  drawLegend();
  const r = state.race;
  if (!(r.results || []).length) {
    show(box, message("info", "This race has no classified drivers."));
    return;
  }
  strategyChart(box, r);
  box.removeAttribute("aria-busy");
  const stintsBy = groupBy(r.stints || [], (s) => s.driver);
  const stopsBy = groupBy(r.pit_stops || [], (s) => s.driver);
  const rows = (r.results || []).map((res) => h("tr", {},
    h("td", {}, res.finished ? res.position : `${res.position} (DNF)`), h("th", { scope: "row" }, res.driver),
    h("td", {}, (stintsBy.get(res.driver) || []).map((s) => `${compoundName(s.compound)}${s.fresh_tyre === false ? " (used set)" : ""} ${s.start_lap}–${s.end_lap}`).join(" → ")),
    h("td", {}, (stopsBy.get(res.driver) || []).map((p) => `${p.lap}${p.under_sc ? " (SC)" : p.under_vsc ? " (VSC)" : ""}`).join(", ") || "–")));
  $("#strategy-table").replaceChildren(h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Pos"), h("th", { scope: "col" }, "Driver"), h("th", { scope: "col" }, "Stints (laps)"), h("th", { scope: "col" }, "Pit laps"))),
    h("tbody", {}, rows)));
}

function lapsUnavailable(box) {
  const err = state.lapsError;
  if (!state.laps) {
    show(box, err ? explain(err, "Lap times") : message("info", "No lap times for this race."));
    return true;
  }
  return false;
}

function drawPace() {
  const box = $("#pace-chart");
  if (!state.race || lapsUnavailable(box)) return;
  const total = state.race.total_laps;
  const fuel = state.fuel.value;
  $("#pace-caption").textContent = state.fuel.source === "circuit"
    ? `Fuel-corrected lap times of clean laps: lap time − ${fuel.toFixed(3)} s × laps remaining, using the circuit model's fuel effect (${fuel.toFixed(3)} s/lap).`
    : `Fuel-corrected lap times of clean laps: lap time − ${fuel.toFixed(3)} s × laps remaining, using the default fuel effect of ${fuel.toFixed(2)} s/lap (no circuit model available).`;
  const series = [];
  const values = [];
  for (const drv of state.highlighted) {
    const laps = state.laps.drivers[drv] || [];
    const c = state.colours.get(drv) || { color: "#000", dash: "" };
    const pts = laps.filter((l) => l.is_clean && Number.isFinite(l.lap_time_s)).map((l) => {
      const v = l.lap_time_s - fuel * (total - l.lap_number);
      values.push(v);
      return [l.lap_number, v, `${drv} lap ${l.lap_number}: ${lapTime(v)} corrected (${lapTime(l.lap_time_s)} raw, ${compoundName(l.compound)}, TyreLife ${l.tyre_life_laps ?? "?"})`];
    });
    series.push({ id: drv, driver: drv, label: drv, color: c.color, dash: c.dash, points: pts, dots: true, title: `${drv} fuel-corrected pace` });
  }
  if (!series.length) {
    show(box, message("info", "Tick one or more drivers above to draw their pace."));
    return;
  }
  if (!values.length) {
    show(box, message("info", "The selected drivers have no clean (green-flag, non-pit) laps in this race."));
    return;
  }
  values.sort((a, b) => a - b);
  const lo = values[0];
  const p90 = quantile(values, 0.9);
  const hi = Math.min(values[values.length - 1], p90 + Math.max(0.5, (p90 - quantile(values, 0.1)) * 0.8));
  const pad = Math.max(0.2, (hi - lo) * 0.05);
  lineChart(box, {
    series, xDomain: [1, total], yDomain: [lo - pad, hi + pad], xLabel: "lap", yLabel: "corrected lap time",
    yFormat: (v) => lapTime(v).replace(/\d\d$/, ""), breakGap: 1, labelEnds: true, className: "pace-chart",
    bands: statusBands(state.race.track_status_by_lap),
    ariaLabel: `Fuel-corrected race pace of ${series.map((s) => s.label).join(", ")}`,
  });
  box.removeAttribute("aria-busy");
}

function drawPositions() {
  const box = $("#position-chart");
  if (!state.race || lapsUnavailable(box)) return;
  const total = state.race.total_laps;
  const order = (state.race.results || []).map((r) => r.driver);
  const drivers = Object.keys(state.laps.drivers).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  let maxPos = drivers.length;
  const series = drivers.map((drv) => {
    const c = state.colours.get(drv) || { color: "#000", dash: "" };
    const pts = state.laps.drivers[drv].filter((l) => Number.isFinite(l.position)).map((l) => {
      maxPos = Math.max(maxPos, l.position);
      return [l.lap_number, l.position, `${drv} lap ${l.lap_number}: P${l.position}`];
    });
    const muted = !state.highlighted.has(drv);
    return { id: drv, driver: drv, label: drv, color: c.color, dash: c.dash, points: pts, muted, dots: !muted && total <= 30, width: muted ? 1 : 2.5, title: `${drv} position by lap` };
  });
  if (!series.some((s) => s.points.length)) {
    show(box, message("info", "No positions recorded for this race."));
    return;
  }
  const ticks = niceTicks(1, maxPos, 8).filter((t) => Number.isInteger(t));
  if (!ticks.includes(1)) ticks.unshift(1);
  lineChart(box, {
    series, xDomain: [1, total], yDomain: [0.5, maxPos + 0.5], yInvert: true, xLabel: "lap", yLabel: "position",
    yTicks: ticks, labelEnds: true, className: "position-chart", height: Math.max(260, Math.min(480, maxPos * 20 + 60)),
    bands: statusBands(state.race.track_status_by_lap), ariaLabel: `Position by lap of ${series.length} drivers`,
  });
  box.removeAttribute("aria-busy");
}

/** Degradation curves per compound from the circuit response, tolerant of its exact shape. */
export function extractDegradation(c) {
  if (!c || typeof c !== "object") return [];
  const src = c.degradation_curves ?? c.degradation ?? c.tyre_degradation ?? c.tyres ?? c.compounds ?? c.degradation_by_compound;
  if (!src || typeof src !== "object") return [];
  const entries = Array.isArray(src) ? src.map((v) => [v.compound ?? v.name, v]) : Object.entries(src);
  const params = c.compounds && typeof c.compounds === "object" && !Array.isArray(c.compounds) ? c.compounds : {};
  const out = [];
  for (const [name, v] of entries) {
    if (!name || !v || typeof v !== "object") continue;
    const raw = { ...(Array.isArray(v) ? {} : v), ...(params[name] || {}) };
    if (Array.isArray(raw.coef_s)) {
      raw.linear_s_per_lap ??= raw.coef_s[0];
      raw.quadratic_s_per_lap2 ??= raw.coef_s[1];
    }
    let pts = Array.isArray(v) ? v : (v.curve ?? v.points ?? v.curve_points ?? v.delta_s_by_age ?? v.delta_by_age ?? null);
    let points = [];
    const toNum = (a) => (a === null || a === undefined ? NaN : Number(a));
    if (Array.isArray(pts)) {
      points = pts.map((p) => (Array.isArray(p) ? [toNum(p[0]), toNum(p[1])]
        : [toNum(p.tyre_age_laps ?? p.age_laps ?? p.age ?? p.lap ?? p.x), toNum(p.delta_s ?? p.lap_time_delta_s ?? p.delta ?? p.loss_s ?? p.y)]));
    } else if (pts && typeof pts === "object") {
      points = Object.entries(pts).map(([a, d]) => [Number(a), Number(d)]);
    } else if (Number.isFinite(v.linear_s_per_lap)) {
      const q = v.quadratic_s_per_lap2 || 0;
      const cliff = Number.isFinite(v.cliff_lap) ? v.cliff_lap : null;
      const slope = v.cliff_slope_s_per_lap || 0;
      const maxAge = Number.isFinite(v.max_age_laps) ? v.max_age_laps : 40;
      for (let a = 0; a <= maxAge; a++) points.push([a, v.linear_s_per_lap * a + q * a * a + (cliff !== null ? slope * Math.max(0, a - cliff) : 0)]);
    }
    points = points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])).sort((a, b) => a[0] - b[0]);
    if (points.length) out.push({ compound: compoundKey(name), raw, points });
  }
  const order = Object.keys(COMPOUNDS);
  return out.sort((a, b) => order.indexOf(a.compound) - order.indexOf(b.compound));
}

function drawDegradation() {
  const box = $("#deg-chart");
  const table = $("#deg-table");
  table.replaceChildren();
  if (state.circuitError === "missing") {
    show(box, unavailable("The circuit model (degradation curves)", "GET", "/circuits/{key}"));
    return;
  }
  if (state.circuitError) {
    show(box, explain(state.circuitError, `Degradation curves for ${state.race.circuit_key}`));
    return;
  }
  const curves = extractDegradation(state.circuit);
  if (!curves.length) {
    show(box, message("info", `The circuit model for ${state.race.circuit_key} has no degradation curves.`));
    return;
  }
  const dashes = { SOFT: "", MEDIUM: "7 3", HARD: "2 3", INTERMEDIATE: "9 3 2 3", WET: "4 4", UNKNOWN: "1 2" };
  const lineColor = { SOFT: "#D55E00", MEDIUM: "#A89B00", HARD: "#555555", INTERMEDIATE: "#009E73", WET: "#0072B2", UNKNOWN: "#999" };
  let lo = 0;
  let hi = 0;
  let maxAge = 1;
  for (const cv of curves) for (const [a, d] of cv.points) { lo = Math.min(lo, d); hi = Math.max(hi, d); maxAge = Math.max(maxAge, a); }
  const series = curves.map((cv) => ({
    id: cv.compound, label: COMPOUNDS[cv.compound].label, color: lineColor[cv.compound], dash: dashes[cv.compound],
    points: cv.points, width: 2.5, title: `${COMPOUNDS[cv.compound].label} degradation`, dots: cv.points.length <= 12,
  }));
  lineChart(box, {
    series, xDomain: [0, maxAge], yDomain: [lo - Math.max(0.05, (hi - lo) * 0.04), hi + Math.max(0.1, (hi - lo) * 0.08)], xLabel: "tyre age (laps)",
    yLabel: "lap-time delta (s)", yFormat: (v) => v.toFixed(1), labelEnds: true, className: "deg-chart",
    ariaLabel: `Degradation curves for ${curves.map((c) => COMPOUNDS[c.compound].label).join(", ")}`,
  });
  box.removeAttribute("aria-busy");
  const fields = [["pace_offset_s", "pace vs MEDIUM (s)"], ["linear_s_per_lap", "wear s/lap"], ["quadratic_s_per_lap2", "wear s/lap²"],
    ["cliff_lap", "cliff (age)"], ["n_laps", "laps fitted"]];
  const present = fields.filter(([k]) => curves.some((c) => c.raw && typeof c.raw[k] === "number"));
  const ownFit = curves.some((c) => typeof c.raw.own_fit === "boolean");
  table.replaceChildren(h("table", { class: "compact" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Compound"), present.map(([, l]) => h("th", { scope: "col" }, l)),
      ownFit ? h("th", { scope: "col" }, "fitted on") : null)),
    h("tbody", {}, curves.map((c) => h("tr", {}, h("th", { scope: "row" }, compoundChip(c.compound)),
      present.map(([k]) => h("td", {}, typeof c.raw[k] !== "number" ? "–" : ["cliff_lap", "n_laps"].includes(k) ? String(Math.round(c.raw[k])) : c.raw[k].toFixed(k === "quadratic_s_per_lap2" ? 5 : 3))),
      ownFit ? h("td", {}, c.raw.own_fit === false ? "all-circuit average" : "this circuit") : null)))));
  const cap = state.circuit.name || state.circuit.key || state.circuit.circuit_key || state.race.circuit_key;
  const era = state.circuit.era ? `, ${state.circuit.era} cars` : "";
  const withOffset = Array.isArray(state.circuit.degradation_curves) || (state.circuit.degradation_curves && typeof state.circuit.degradation_curves === "object");
  $("#deg-caption").textContent = `${withOffset ? "Pace offset against a fresh MEDIUM plus wear" : "Lap-time loss"} by tyre age at ${cap}${era}, `
    + "per compound (name at the line end; each compound has its own line style).";
}

// ------------------------------------------------------------------ sources
function isStored(season, event) {
  return state.races.some((r) => r.season === Number(season)
    && (String(r.round) === String(event) || r.event === event));
}

function sourceList(sources) {
  if (!Array.isArray(sources) || !sources.length) return null;
  return h("section", { class: "sources" }, h("h3", {}, "Sources"), h("ol", {}, sources.map((src) => {
    if (typeof src === "string") return h("li", {}, src);
    const label = src.title || src.id || "source";
    const ev = src.round ?? src.event;
    const race = src.season && ev !== undefined && ev !== null;
    // a source about a race this store does not hold is cited, not linked: the link would open an error
    const stored = race && isStored(src.season, ev);
    const link = stored
      ? h("a", { href: raceHash(src.season, ev), class: "source-link", "data-season": src.season, "data-event": ev }, label)
      : h("span", { class: "source-title" }, label);
    const meta = [src.kind, race && !stored ? "race not stored" : null,
      Number.isFinite(src.score) ? `score ${src.score.toFixed(2)}` : null].filter(Boolean).join(" · ");
    return h("li", { "data-source-id": src.id ?? null }, link, meta ? h("span", { class: "source-meta" }, ` (${meta})`) : null,
      src.snippet ? h("p", { class: "snippet" }, src.snippet) : null);
  })));
}

function providerLine(d) {
  const bits = [];
  if (d.provider) bits.push(`written by ${d.provider}`);
  if (d.cached) bits.push("cached");
  if (Number.isFinite(d.latency_ms)) bits.push(`${Math.round(d.latency_ms)} ms`);
  return bits.length ? h("p", { class: "provider" }, bits.join(" · ")) : null;
}

function paragraphs(text) {
  return String(text || "").split(/\n{2,}/).filter((t) => t.trim()).map((t) => h("p", {}, t.trim()));
}

function busy(btn, on) {
  btn.disabled = on;
  btn.setAttribute("aria-busy", String(on));
}

function needRace(out) {
  if (state.race) return false;
  show(out, message("info", "Select a race first."));
  return true;
}

// ------------------------------------------------------------------ strategy lab
async function submitLab(ev) {
  ev.preventDefault();
  const out = $("#lab-results");
  if (needRace(out)) return;
  if (!offers("post", "/strategy/generate")) {
    show(out, unavailable("The strategy generator", "POST", "/strategy/generate"));
    return;
  }
  const body = { season: state.race.season, event: String(state.race.round), driver: $("#lab-driver").value || undefined,
    top_k: Number($("#lab-topk").value) || 3 };
  if ($("#lab-grid").value) body.grid = Number($("#lab-grid").value);
  const btn = $("#lab-submit");
  busy(btn, true);
  show(out, message("loading", "Simulating strategies…"));
  try {
    const d = await api("/strategy/generate", { method: "POST", body });
    renderLab(out, d);
  } catch (err) {
    show(out, explain(err, "The strategy generator"));
  } finally {
    busy(btn, false);
  }
}

// ------------------------------------------------------------------ what the field did here before
// `field_history` and `history_check` of a pre-race answer, worded as `f1analyzer strategy` prints
// them (cli/strategy.py: _field_history, history_line).

/** 0 → "no stop", 1 → "1 stop", 2 → "2 stops". */
function stopsText(n) {
  return n === 0 ? "no stop" : `${n} stop${n === 1 ? "" : "s"}`;
}

/** ["MEDIUM", "HARD"] → "M → H" (the compounds' letters); "–" when none. */
function compoundSequence(compounds) {
  return (compounds || []).map((c) => compoundStyle(c).letter).join(" → ") || "–";
}

/** A median lap: whole laps without decimals (18), a half lap as it is (18.5); "–" when unknown. */
function medianLap(x) {
  return x === null || x === undefined || !Number.isFinite(Number(x)) ? "–" : String(Number(x));
}

/** `history_check` in one line: our plan, then the field's at the comparable race. */
function historyLine(check) {
  const win = check.plan_first_stop_window;
  let ours = `Our plan: ${stopsText(check.plan_stops)} (${compoundSequence(check.plan_compounds)})`;
  if (Array.isArray(win) && win.length) ours += `, first stop laps ${win[0]}–${win[win.length - 1]}`;
  const green = check.field_green_stops;
  const neutral = Number.isFinite(green) && green < check.field_stops ? `, ${green} under green` : "";
  let theirs = `the ${check.season} field (same car era): ${stopsText(check.field_stops)}${neutral} (${compoundSequence(check.field_compounds)})`;
  if (check.field_median_first_stop_lap !== null && check.field_median_first_stop_lap !== undefined) {
    theirs += `, first stop lap ${medianLap(check.field_median_first_stop_lap)}`;
    if (check.first_stop_vs_window) theirs += ` (${check.first_stop_vs_window} our window)`;
  }
  return `${ours} — ${theirs}`;
}

/** What the top ten did at the circuit's earlier races (newest first) and our plan against the
 * newest dry one of the same car era; nothing for an answer without them (older or cached answers). */
function fieldHistorySection(history, check) {
  if (!Array.isArray(history) || !history.length) return null;
  const rows = history.map((r) => {
    const green = Number.isFinite(r.green_stops) && Number.isFinite(r.stops) && r.green_stops < r.stops
      ? `${r.green_stops} under green flag` : null;
    return h("tr", { "data-season": r.season, "data-round": r.round, class: r.wet ? "wet" : null },
      h("td", {}, r.season), h("th", { scope: "row" }, r.event || "–"),
      h("td", { title: green }, Number.isFinite(r.stops) ? r.stops : "–"),
      h("td", { class: "compounds", title: (r.compounds || []).map((c) => compoundStyle(c).label).join(" → ") || null },
        compoundSequence(r.compounds)),
      h("td", {}, medianLap(r.median_first_stop_lap)),
      h("td", {}, r.wet ? h("span", { class: "wet-mark", title: "Run partly on intermediates or wets" }, "☂ wet") : ""));
  });
  return h("section", { class: "field-history", id: "lab-field-history" },
    h("h3", {}, "What the top ten did here before"),
    h("div", { class: "table-scroll" }, h("table", { class: "compact" },
      h("caption", {}, "Stops, tyres: the most common among the top ten classified; first stop: their median first-stop lap."),
      h("thead", {}, h("tr", {}, ["Season", "Event", "Stops", "Tyres", "First stop (median lap)", "Wet"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows))),
    check ? h("p", { class: "history-check" }, historyLine(check)) : null);
}

function renderLab(out, d) {
  const strategies = d.strategies || [];
  if (!strategies.length) {
    show(out, message("info", "No strategy came back for this request."));
    return;
  }
  const total = d.total_laps || state.race?.total_laps;
  const chartBox = h("div", { class: "chart-box", id: "lab-plan-chart" });
  const histBox = h("div", { class: "chart-box", id: "lab-histogram" });
  const histTitle = h("h3", { id: "lab-hist-title" });
  const rows = strategies.map((st, i) => {
    const radio = h("input", { type: "radio", name: "lab-pick", value: i, checked: i === 0, "aria-label": `Show the position distribution of strategy ${st.rank ?? i + 1}` });
    radio.addEventListener("change", () => drawHist(i));
    const windows = (st.pit_windows || []).map((w) => (Array.isArray(w) ? `${w[0]}–${w[1]}` : String(w))).join(", ");
    return h("tr", { "data-rank": st.rank ?? i + 1 },
      h("td", {}, radio), h("th", { scope: "row" }, st.rank ?? i + 1),
      h("td", { class: "compounds" }, (st.compounds || []).map((c, k) => [k ? h("span", { class: "arrow", "aria-hidden": "true" }, "→") : null, compoundChip(c)])),
      h("td", {}, st.stops ?? Math.max(0, (st.compounds || []).length - 1)),
      h("td", {}, (st.pit_laps || []).join(", ") || "–"), h("td", {}, windows || "–"),
      h("td", {}, fmt(st.expected_position_if_classified ?? st.expected_position, 1)),
      h("td", {}, pct(st.p_win)), h("td", {}, pct(st.p_podium)), h("td", {}, fmt(st.expected_points, 1)),
      h("td", { title: "In 10 % of classified races this position or better; in 90 % the second or better" },
        `${fmt(st.position_10th_percentile, 0)}–${fmt(st.position_90th_percentile, 0)}`),
      h("td", {}, pct(st.p_dnf)),
      h("td", {}, pct(st.p_gain_positions)));
  });
  const table = h("div", { class: "table-scroll" }, h("table", { class: "strategies" },
    h("caption", {}, `Ranked strategies for ${d.driver || "the field"}${d.grid ? ` from grid slot ${d.grid}` : ""} – ${d.event || ""} ${d.season || ""}`),
    h("thead", {}, h("tr", {}, ["Show", "Rank", "Tyres", "Stops", "Pit laps", "Pit windows", "Exp. pos. if classified", "P(win)", "P(podium)", "Exp. points", "Finishing range (10th–90th percentile of races)", "P(DNF)", "P(gain)"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
  const sideBox = h("div", { class: "chart-box", id: "lab-side-by-side" });
  const top = strategies.slice(0, 3);
  const sideLegend = h("ul", { class: "legend" }, top.map((st, i) => h("li", {},
    colourSwatch("band-swatch", PALETTE[i]), `#${st.rank ?? i + 1} ${(st.compounds || []).map((c) => compoundStyle(c).letter).join("–")}`)));
  show(out, table, fieldHistorySection(d.field_history, d.history_check), h("h3", {}, "Pit windows"), chartBox,
    h("h3", {}, "Finishing positions of the top options side by side (Monte Carlo)"), sideLegend, sideBox, histTitle, histBox,
    d.narrative ? h("section", { class: "narrative" }, h("h3", {}, "Why"), paragraphs(d.narrative)) : null,
    sourceList(d.sources), providerLine(d));
  planChart(chartBox, strategies.map((st, i) => ({ id: st.rank ?? i + 1, label: `#${st.rank ?? i + 1}`, compounds: st.compounds, pit_laps: st.pit_laps, pit_windows: st.pit_windows })), total);
  const nPos = state.race?.results?.length || 20;
  function drawHist(i) {
    const st = strategies[i];
    histTitle.textContent = `Finishing position distribution – strategy #${st.rank ?? i + 1} (outlined bar: median position)`;
    histogramChart(histBox, [{ id: st.rank ?? i + 1, label: `#${st.rank ?? i + 1}`, color: "#0072B2", hist: st.position_histogram }],
      { positions: nPos, highlight: Math.round(st.position_median ?? NaN), ariaLabel: `Finishing position distribution of strategy ${st.rank ?? i + 1}` });
  }
  const drawSide = () => histogramChart(sideBox, top.map((st, i) => ({ id: st.rank ?? i + 1, label: `#${st.rank ?? i + 1}`, color: PALETTE[i], hist: st.position_histogram })),
    { positions: nPos, ariaLabel: `Finishing position distributions of the top ${top.length} strategies side by side` });
  drawSide();
  drawHist(0);
  const redrawHist = drawHist;
  const drawHistAndSide = (i) => { drawSide(); redrawHist(i); };
  state.redrawLab = () => { if ($("#lab-plan-chart") === chartBox) { planChart(chartBox, strategies.map((st, i) => ({ id: st.rank ?? i + 1, label: `#${st.rank ?? i + 1}`, compounds: st.compounds, pit_laps: st.pit_laps, pit_windows: st.pit_windows })), total); const pick = out.querySelector("input[name=lab-pick]:checked"); drawHistAndSide(pick ? Number(pick.value) : 0); } };
  addExportButtons(out, fail);
}

async function submitWhatIf(ev) {
  ev.preventDefault();
  const out = $("#whatif-results");
  if (needRace(out)) return;
  const path = findEndpoint("post", /\/replay$/, "/strategy/replay");
  if (!path || !offers("post", path)) {
    show(out, unavailable("The what-if replay", "POST", "/strategy/replay"));
    return;
  }
  const drv = $("#whatif-driver").value;
  const lap = Number($("#whatif-lap").value);
  const compound = $("#whatif-compound").value;
  const body = { season: state.race.season, event: String(state.race.round), from_lap: Number($("#whatif-from").value) || 1,
    changes: [`${drv}:pit=${lap}:${compound}`] };
  const btn = $("#whatif-submit");
  busy(btn, true);
  show(out, message("loading", "Replaying the race…"));
  try {
    const d = await api(path, { method: "POST", body });
    renderWhatIf(out, d, drv, body.changes[0]);
  } catch (err) {
    show(out, explain(err, "The what-if replay"));
  } finally {
    busy(btn, false);
  }
}

function renderWhatIf(out, d, drv, change) {
  // simulated_order lists driver codes; the per-driver figures are in d.drivers
  const byDriver = new Map((d.drivers || []).map((x) => [x.driver, x]));
  const sim = (d.simulated_order || d.simulated || []).map((r) => (typeof r === "string" ? byDriver.get(r) || { driver: r } : r));
  const real = d.real_order || d.actual_order || [];
  const realPos = new Map();
  real.forEach((r, i) => {
    if (typeof r === "string") realPos.set(r, i + 1);
    else if (r && r.driver) realPos.set(r.driver, r.position ?? r.expected_position ?? i + 1);
  });
  if (!sim.length) {
    show(out, message("info", "The replay returned no simulated order."));
    return;
  }
  const rows = sim.map((r, i) => {
    const rp = realPos.get(r.driver);
    const ep = r.expected_position;
    const delta = Number.isFinite(rp) && Number.isFinite(ep) ? rp - ep : NaN;
    return h("tr", { "data-driver": r.driver, class: r.driver === drv ? "changed" : null },
      h("td", {}, i + 1), h("th", { scope: "row" }, r.driver, r.driver === drv ? " ✎" : ""),
      h("td", {}, Number.isFinite(rp) ? `P${rp}` : "–"), h("td", {}, fmt(ep, 1)),
      h("td", { class: delta > 0.05 ? "gain" : delta < -0.05 ? "loss" : null }, Number.isFinite(delta) ? `${delta > 0 ? "▲ +" : delta < 0 ? "▼ " : ""}${delta.toFixed(1)}` : "–"),
      h("td", {}, pct(r.p_win, 1)));
  });
  const mine = sim.find((r) => r.driver === drv);
  const histBox = h("div", { class: "chart-box", id: "whatif-histogram" });
  show(out,
    h("p", { class: "summary" }, `Change: ${change}.`, mine ? ` ${drv} is expected to finish P${fmt(mine.expected_position, 1)} (really P${realPos.get(drv) ?? "?"}).` : ""),
    h("div", { class: "table-scroll" }, h("table", {},
      h("caption", {}, "Simulated order against the real result"),
      h("thead", {}, h("tr", {}, ["#", "Driver", "Real", "Sim. exp. pos.", "Gain", "P(win)"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows))),
    mine && mine.position_histogram ? h("h3", {}, `${drv}: finishing position distribution in the replay (outlined bar: real result)`) : null,
    mine && mine.position_histogram ? histBox : null,
    d.narrative ? h("section", { class: "narrative" }, paragraphs(d.narrative)) : null, sourceList(d.sources));
  if (mine && mine.position_histogram) {
    histogramChart(histBox, [{ label: drv, color: "#D55E00", hist: mine.position_histogram }],
      { positions: sim.length, highlight: realPos.get(drv), ariaLabel: `${drv} replay finishing position distribution` });
  }
}

// ------------------------------------------------------------------ live advisor
function cumulativeTimes(lap) {
  // per driver: time to complete `lap` laps, NaN lap times filled with that lap's median
  const drivers = state.laps?.drivers || {};
  const med = new Map();
  for (let l = 1; l <= lap; l++) {
    const v = Object.values(drivers).map((ls) => ls.find((x) => x.lap_number === l)?.lap_time_s).filter(Number.isFinite).sort((a, b) => a - b);
    med.set(l, v.length ? quantile(v, 0.5) : 90);
  }
  const out = new Map();
  for (const [drv, ls] of Object.entries(drivers)) {
    const byLap = new Map(ls.map((x) => [x.lap_number, x]));
    if (!byLap.has(lap)) continue;
    let t = 0;
    for (let l = 1; l <= lap; l++) {
      const v = byLap.get(l)?.lap_time_s;
      t += Number.isFinite(v) ? v : med.get(l);
    }
    out.set(drv, { t, row: byLap.get(lap) });
  }
  return out;
}

function fieldAtLap(lap) {
  const cum = cumulativeTimes(lap);
  if (!cum.size) return [];
  const lead = Math.min(...[...cum.values()].map((v) => v.t));
  return [...cum.entries()].map(([drv, { t, row }]) => ({
    driver: drv, position: row.position ?? null, gap_to_leader_s: Math.max(0, +(t - lead).toFixed(1)),
    compound: compoundKey(row.compound), tyre_age_laps: Number.isFinite(row.tyre_life_laps) ? row.tyre_life_laps : 0,
    stops: Math.max(0, (row.stint ?? 1) - 1),
  })).sort((a, b) => (a.position ?? 99) - (b.position ?? 99));
}

function prefillLive() {
  if (!state.laps) return;
  const lap = Number($("#live-lap").value);
  const me = fieldAtLap(lap).find((c) => c.driver === $("#live-driver").value);
  if (!me) return;
  if (me.position) $("#live-position").value = me.position;
  $("#live-compound").value = COMPOUNDS[me.compound] && me.compound !== "UNKNOWN" ? me.compound : "MEDIUM";
  $("#live-age").value = me.tyre_age_laps;
  $("#live-gap").value = me.gap_to_leader_s;
  $("#live-stops").value = me.stops;
  const ts = String(state.race?.track_status_by_lap?.[lap] || "");
  // the status digits of the lap, as data.feeds.base.status_from_digits reads them (a red flag first)
  $("#live-track").value = ts.includes("5") ? "red" : ts.includes("4") ? "sc" : (ts.includes("6") || ts.includes("7")) ? "vsc" : "green";
}

async function submitLive(ev) {
  ev.preventDefault();
  const out = $("#live-results");
  if (needRace(out)) return;
  if (!offers("post", "/strategy/live")) {
    show(out, unavailable("The live advisor", "POST", "/strategy/live"));
    return;
  }
  const drv = $("#live-driver").value;
  const lap = Number($("#live-lap").value);
  const mine = {
    driver: drv, position: Number($("#live-position").value) || 1, gap_to_leader_s: Number($("#live-gap").value) || 0,
    compound: $("#live-compound").value, tyre_age_laps: Number($("#live-age").value) || 0, stops: Number($("#live-stops").value) || 0,
  };
  let cars = fieldAtLap(lap).filter((c) => c.driver !== drv);
  // keep the field consistent with the position typed in: others shift around it
  cars = cars.sort((a, b) => (a.position ?? 99) - (b.position ?? 99));
  cars.splice(Math.min(cars.length, mine.position - 1), 0, mine);
  cars = cars.map((c, i) => ({ ...c, position: i + 1 }));
  const body = { season: state.race.season, event: String(state.race.round), lap, track_status: $("#live-track").value, driver: drv, cars };
  const btn = $("#live-submit");
  busy(btn, true);
  show(out, message("loading", "Simulating the next laps…"));
  try {
    const d = await api("/strategy/live", { method: "POST", body });
    renderLive(out, d);
  } catch (err) {
    show(out, explain(err, "The live advisor"));
  } finally {
    busy(btn, false);
  }
}

function renderLive(out, d) {
  const call = String(d.call || "UNKNOWN");
  const label = { BOX_NOW: "Box now", STAY_OUT: "Stay out", BOX_UNDER_SC: "Box under the Safety Car", BOX_UNDER_RED: "Change tyres in the red flag (free)" }[call] || call.replace(/_/g, " ").toLowerCase();
  const prob = d.p_gain ?? d.probability ?? d.confidence;
  const skip = new Set(["call", "p_gain", "probability", "confidence", "narrative", "sources", "provider", "cached", "latency_ms", "close_call_note"]);
  const rest = Object.entries(d).filter(([k, v]) => !skip.has(k) && (typeof v !== "object" || v === null));
  show(out,
    h("div", { class: `call call-${call.toLowerCase().replace(/_/g, "-")}`, "data-call": call },
      h("span", { class: "call-label" }, label),
      h("span", { class: "call-prob" }, Number.isFinite(prob) ? `${pct(prob)} chance to gain a position` : ""),
      Number.isFinite(d.expected_positions_gained) ? h("span", { class: "call-gain" }, `expected ${d.expected_positions_gained >= 0 ? "+" : ""}${d.expected_positions_gained.toFixed(2)} positions`) : null,
      d.best_compound ? h("span", { class: "call-compound" }, "fit ", compoundChip(d.best_compound)) : null),
    d.close_call_note ? h("p", { class: "call-close" }, d.close_call_note) : null,
    rest.length ? h("dl", { class: "kv" }, rest.flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, typeof v === "number" ? (Number.isInteger(v) ? v : v.toFixed(3)) : String(v))])) : null,
    d.narrative ? h("section", { class: "narrative" }, paragraphs(d.narrative)) : null, sourceList(d.sources));
}

// ------------------------------------------------------------------ ask
async function submitAsk(ev) {
  ev.preventDefault();
  const out = $("#ask-results");
  const q = $("#ask-input").value.trim();
  if (!q) return;
  if (!offers("post", "/query")) {
    show(out, unavailable("Question answering", "POST", "/query"));
    return;
  }
  const body = { query: q, top_k: 5 };
  if ($("#ask-scope").checked && state.race) body.filters = { season: state.race.season, event: state.race.event };
  const btn = $("#ask-submit");
  busy(btn, true);
  show(out, message("loading", "Searching the race knowledge base…"));
  try {
    const d = await api("/query", { method: "POST", body });
    show(out, h("section", { class: "answer" }, h("h3", {}, "Answer"), paragraphs(d.answer || "No answer.")), sourceList(d.sources), providerLine(d));
  } catch (err) {
    show(out, explain(err, "Question answering"));
  } finally {
    busy(btn, false);
  }
}

// ------------------------------------------------------------------ start-up
function onResize() {
  let pending = false;
  window.addEventListener("resize", () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      redrawRaceCharts();
      if (state.tab === "lab" && state.redrawLab) state.redrawLab();
    }, 150);
  });
}

function bind() {
  $("#season-select").addEventListener("change", () => {
    const season = Number($("#season-select").value);
    const races = state.races.filter((r) => r.season === season);
    if (races.length) location.hash = raceHash(season, races[races.length - 1].round, state.tab);
  });
  $("#race-select").addEventListener("change", () => {
    location.hash = raceHash(Number($("#season-select").value), $("#race-select").value, state.tab);
  });
  $("#lab-form").addEventListener("submit", submitLab);
  $("#whatif-form").addEventListener("submit", submitWhatIf);
  $("#live-form").addEventListener("submit", submitLive);
  $("#ask-form").addEventListener("submit", submitAsk);
  initRaceDay({ api, compoundChip, message, currentRace: () => (state.race ? { season: state.race.season, round: state.race.round } : null) });
  $("#live-driver").addEventListener("change", prefillLive);
  $("#trace-ref").addEventListener("change", drawTrace);
  $("#compare-a").addEventListener("change", drawCompare);
  $("#compare-b").addEventListener("change", drawCompare);
  $("#season-driver").addEventListener("change", drawSeasonCards);
  $("#season-deg-compound").addEventListener("change", drawSeasonCards);
  initTheme($("#theme-toggle"), () => redrawRaceCharts(true));
  initIngest({ api, message, onDone: () => { seasonCache.clear(); return reloadAll(); } });
  addExportButtons(document, fail);
  $("#live-lap").addEventListener("change", prefillLive);
  window.addEventListener("hashchange", () => { route().catch(fail); });
  $("#api-key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("#api-key-input").value.trim();
    try {
      if (v) sessionStorage.setItem(KEY_STORE, v);
      else sessionStorage.removeItem(KEY_STORE);
    } catch {
      // storage disabled: the key cannot be kept
    }
    $("#api-key-input").value = "";
    $("#api-key-state").textContent = v ? "Key set for this tab." : "Key cleared.";
    reloadAll().catch(fail);
  });
  onResize();
}

function fail(err) {
  // an unexpected error: say so on the page and keep it visible in the console for developers
  show($("#global-message"), message("error", `Something went wrong in the page: ${err && err.message ? err.message : err}`));
  console.error(err);
}

function markAvailability() {
  const pairs = [["#lab-form", "post", "/strategy/generate", "The strategy generator", "#lab-results"],
    ["#live-form", "post", "/strategy/live", "The live advisor", "#live-results"],
    ["#ask-form", "post", "/query", "Question answering", "#ask-results"]];
  for (const [form, m, p, what, out] of pairs) {
    if (!offers(m, p)) {
      $(form).classList.add("unavailable");
      show($(out), unavailable(what, m.toUpperCase(), p));
    }
  }
  if (!findEndpoint("post", /\/replay$/, "/strategy/replay")) {
    $("#whatif-form").classList.add("unavailable");
    show($("#whatif-results"), unavailable("The what-if replay", "POST", "/strategy/replay"));
  }
}

async function reloadAll() {
  state.race = null;
  await Promise.all([loadOpenapi(), refreshHealth()]);
  await loadRaces();
  markAvailability();
  await route();
}

async function main() {
  bind();
  await Promise.all([loadOpenapi(), refreshHealth()]);
  setInterval(() => { refreshHealth().catch(fail); }, 60000);
  await loadRaces();
  markAvailability();
  await route();
  document.body.dataset.ready = "true";
}

main().catch(fail);
