// "Get a whole season" from the dashboard (issue 15): POST /admin/ingest {seasons: [S]} reads the
// server's F1_DATA_DIR/laps/S.* (admin API key needed), then GET /admin/jobs/{id} is polled and its
// status shown until the job ends; the race list reloads when it succeeded.

const POLL_MS = 1000;

export function initIngest({ api, message, onDone }) {
  const form = document.querySelector("#ingest-form");
  const out = document.querySelector("#ingest-status");
  const bar = document.querySelector("#ingest-progress");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const season = Number(document.querySelector("#ingest-season").value);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    bar.hidden = false;
    bar.removeAttribute("value");  // indeterminate until the job ends
    out.replaceChildren(message("loading", `Asking the server to ingest ${season}…`));
    try {
      const job = await api("/admin/ingest", { method: "POST", body: { seasons: [season] } });
      const started = Date.now();
      for (;;) {
        const st = await api(`/admin/jobs/${encodeURIComponent(job.job_id)}`);
        const secs = Math.round((Date.now() - started) / 1000);
        if (st.status === "succeeded") {
          const r = st.result || {};
          bar.value = 1;
          out.replaceChildren(message("info", `Season ${season} ingested in ${secs} s: ${r.rounds ?? "?"} race(s), ${r.rows_kept ?? "?"} laps kept, ${r.rejected ?? 0} rejected.`));
          await onDone();
          break;
        }
        if (st.status === "failed" || st.status === "cancelled") {
          out.replaceChildren(message("error", `Ingest ${st.status}: ${st.error || "no reason given"}`));
          break;
        }
        out.replaceChildren(message("loading", `Ingest ${st.status}… ${secs} s`));
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch (err) {
      const why = err && (err.status === 401 || err.status === 403)
        ? `${err.message} Enter an admin API key under "API key" at the bottom of the page.`
        : (err && err.message) || String(err);
      out.replaceChildren(message("error", `The season could not be ingested: ${why}`));
    } finally {
      button.disabled = false;
      if (bar.value !== 1) bar.hidden = true;
    }
  });
}
