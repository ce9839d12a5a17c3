// Race-day tab: follow the selected race replayed as live (POST /live/sessions) and update the
// timing tower, the selected driver's call, rejoin and threats from the Server-Sent Events
// stream (GET /live/{id}/stream) without reloading. The browser's EventSource reconnects by
// itself with Last-Event-ID, so a dropped connection loses no lap.

const CALL_LABEL = { BOX_NOW: "BOX NOW", BOX_UNDER_SC: "BOX UNDER SC", BOX_UNDER_RED: "CHANGE UNDER RED", STAY_OUT: "STAY OUT", BOX_IN_K: "BOX IN" };
const STATUS_LABEL = { GREEN: "Green flag", SC: "Safety Car", VSC: "Virtual Safety Car", RED: "Red flag" };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const num = (v, d = 1, plus = false) => (Number.isFinite(v) ? `${plus && v >= 0 ? "+" : ""}${v.toFixed(d)}` : "–");

function callText(c) {
  if (!c) return "–";
  let t = CALL_LABEL[c.call] || c.call;
  if (c.call === "BOX_IN_K") t += ` ${c.box_in_laps}`;
  return t;
}

export function initRaceDay({ api, currentRace, compoundChip, message }) {
  const $ = (s) => document.querySelector(s);
  const ui = { source: null, sid: null, selected: null, last: null, laps: 0 };

  function stop() {
    if (ui.source) ui.source.close();
    ui.source = null;
  }

  function setStatus(kind, text) {
    $("#rd-message").replaceChildren(message(kind, text));
  }

  function banner(status) {
    const b = $("#rd-banner");
    b.className = `rd-banner rd-${(status || "GREEN").toLowerCase()}`;
    b.textContent = STATUS_LABEL[status] || status || "";
  }

  // today's tyre life: the race's first stints against the circuit's earlier races (the advice uses it)
  function lifeText(life) {
    const out = $("#rd-life");
    if (!life) { out.textContent = ""; out.removeAttribute("title"); return; }
    out.textContent = life.ratio === null ? "Tyre life: circuit history" : `Tyre life ×${life.factor.toFixed(2)} today`;
    out.title = life.note || "";
  }

  function render(evt) {
    const snap = evt.snapshot;
    const upd = evt.update || {};
    ui.last = evt;
    const calls = new Map((upd.calls || []).map((c) => [c.driver, c]));
    banner(snap.track_status);
    $("#rd-lap").textContent = `Lap ${snap.lap}${snap.total_laps ? ` / ${snap.total_laps}` : ""}`;
    lifeText(upd.tyre_life);
    const rows = snap.cars.map((car) => {
      const c = calls.get(car.driver);
      const tyre = el("span", { class: "rd-tyre" }, car.compound ? compoundChip(car.compound) : "?",
        el("span", { class: "rd-age" }, car.tyre_life ?? "–"), car.in_pit ? el("b", { class: "rd-pit" }, "PIT") : null);
      const tr = el("tr", {
        class: [car.retired ? "rd-out" : "", car.driver === ui.selected ? "rd-selected" : ""].join(" ").trim() || null,
        "data-driver": car.driver, tabindex: "0",
        onclick: () => select(car.driver), onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(car.driver); } },
      },
      el("td", {}, car.position), el("th", { scope: "row" }, car.driver),
      el("td", { class: "num" }, car.retired ? "OUT" : num(car.gap_to_leader_s)),
      el("td", { class: "num" }, num(car.interval_s)), el("td", {}, tyre), el("td", { class: "num" }, car.stops),
      el("td", { class: `rd-call rd-${(c && c.call || "").toLowerCase()}` }, callText(c)));
      return tr;
    });
    $("#rd-tower tbody").replaceChildren(...rows);
    $("#rd-tower").dataset.lap = String(snap.lap);
    renderDetail(calls, upd.note);
  }

  // note: why the whole lap has no calls (a wet track, the last lap), from the server
  function renderDetail(calls, note) {
    const out = $("#rd-detail");
    const d = ui.selected;
    const c = d && calls.get(d);
    if (!d) return out.replaceChildren(el("p", { class: "caption" }, "Select a driver in the tower for the call, rejoin and threats."));
    if (!c) return out.replaceChildren(el("p", { class: "caption" },
      note ? `${d}: ${note}` : `${d}: no call this lap (retired, or the race is on its last lap).`));
    const r = c.rejoin;
    const margin = c.margin_places !== null && c.margin_places !== undefined
      ? `${num(c.margin_places, 2, true)} ± ${num(c.margin_se, 2)} expected places vs the other option`
      : "from the screened plan (no Monte Carlo this lap)";
    const threats = (c.threats || []).map((t) => el("li", {},
      t.kind === "undercut_from_behind" ? `Undercut from behind: ${t.rival} (${num(t.gap_s)} s back)` : `Undercut on the car ahead: ${t.rival} (${num(t.gap_s)} s ahead)`,
      `, margin ${num(t.margin_s, 2, true)} s`, t.window_closes_lap ? `, window closes lap ${t.window_closes_lap}` : ", no window within 5 laps"));
    out.replaceChildren(
      el("h3", { id: "rd-call" }, `${d}: ${callText(c)}`),
      el("p", {}, margin, c.next_compound ? ` · next set ${c.next_compound}` : "", ` · plan ${c.plan}`),
      c.close_call_note ? el("p", { id: "rd-close", class: "caption" }, c.close_call_note)
        : (c.field_box_rate !== null && c.field_box_rate !== undefined
          ? el("p", { id: "rd-habit", class: "caption" },
            `${Math.round(100 * c.field_box_rate)}% of cars in this spot boxed in the races the models saw.`) : null),
      el("p", { id: "rd-rejoin" }, `Boxing now: rejoins P${r.rejoin_position} (now P${r.current_position})`,
        r.car_ahead ? ` behind ${r.car_ahead} by ${num(r.gap_ahead_s)} s` : " in the lead",
        r.car_behind ? `, ahead of ${r.car_behind} by ${num(r.gap_behind_s)} s` : "",
        ` · stop loss ${num(r.pit_loss_s)} s`, r.in_traffic ? " · in traffic" : "",
        r.free_stop ? el("b", { class: "rd-free" }, " · free stop") : ""),
      el("ul", { class: "rd-threats" }, threats));
  }

  function select(driver) {
    ui.selected = driver;
    if (ui.last) render(ui.last);
  }

  async function follow(ev) {
    ev.preventDefault();
    const race = currentRace();
    if (!race) return setStatus("warn", "Select a race first.");
    stop();
    const body = { season: race.season, event: String(race.round), speed: Number($("#rd-speed").value || 60),
      from_lap: Number($("#rd-from").value || 1) };
    setStatus("loading", "Starting the replay (building the race's pre-race models)…");
    let meta;
    try {
      meta = await api("/live/sessions", { method: "POST", body });
    } catch (err) {
      return setStatus("error", err.message);
    }
    ui.sid = meta.id;
    ui.laps = 0;
    setStatus("info", `Following ${meta.event} ${meta.season} (session ${meta.id}).`);
    const src = new EventSource(`/live/${meta.id}/stream`);
    ui.source = src;
    const onLap = (e) => { ui.laps += 1; render(JSON.parse(e.data)); };
    src.addEventListener("lap", onLap);
    src.addEventListener("track_status", onLap);
    src.addEventListener("end", (e) => {
      const d = JSON.parse(e.data);
      stop();
      const n = (d.calls_summary || []).length;
      setStatus(d.state === "error" ? "error" : "info",
        d.state === "error" ? `The feed stopped: ${d.error}` : `Race over (${d.state}): ${n} call${n === 1 ? "" : "s"} to box made.`);
    });
    src.onerror = () => { if (ui.source) setStatus("warn", "Connection lost; reconnecting (no lap is lost)…"); };
  }

  $("#rd-form").addEventListener("submit", follow);
  $("#rd-stop").addEventListener("click", () => {
    stop();
    if (ui.sid) api(`/live/${ui.sid}`, { method: "DELETE" }).catch(() => {});
    setStatus("info", "Stopped following.");
  });
  window.addEventListener("pagehide", stop);
  return { stop };
}
