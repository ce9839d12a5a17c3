// How the dashboard writes times, percentiles and compounds (issue 15); the CLI's twin is
// f1analyzer/data/formatting.py. JSON keeps seconds (``*_s``); only what people read is formatted.

/** 96.296 → "1:36.296"; 59.1 → "59.100"; "" when unknown. */
export function lapTime(seconds) {
  if (!Number.isFinite(seconds)) return "";
  let ms = Math.round(seconds * 1000);
  const sign = ms < 0 ? "-" : "";
  ms = Math.abs(ms);
  const min = Math.floor(ms / 60000);
  const rest = ms % 60000;
  const sec = Math.floor(rest / 1000);
  const frac = String(rest % 1000).padStart(3, "0");
  return min ? `${sign}${min}:${String(sec).padStart(2, "0")}.${frac}` : `${sign}${sec}.${frac}`;
}

/** 5071.5 → "1:24:31.5"; 754.2 → "12:34.2". */
export function raceTime(seconds) {
  if (!Number.isFinite(seconds)) return "";
  let t = Math.round(seconds * 10);
  const sign = t < 0 ? "-" : "";
  t = Math.abs(t);
  const hr = Math.floor(t / 36000);
  const min = Math.floor((t % 36000) / 600);
  const rest = t % 600;
  const secs = `${String(Math.floor(rest / 10)).padStart(2, "0")}.${rest % 10}`;
  if (hr) return `${sign}${hr}:${String(min).padStart(2, "0")}:${secs}`;
  return min ? `${sign}${min}:${secs}` : `${sign}${Math.floor(rest / 10)}.${rest % 10}`;
}

/** A gap between cars: "+1.234", "+1:02.345". */
export function gap(seconds) {
  if (!Number.isFinite(seconds)) return "";
  return (seconds < 0 ? "-" : "+") + lapTime(Math.abs(seconds));
}

export function ordinal(n) {
  const v = Math.round(n);
  const t = v % 100;
  const suffix = t >= 10 && t <= 20 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" })[v % 10] || "th";
  return `${v}${suffix}`;
}

/** 10 → "10th percentile": never "P10", which reads as tenth place. */
export function percentile(q) {
  return `${ordinal(q > 0 && q < 1 ? q * 100 : q)} percentile`;
}

const DRY = ["HARD", "MEDIUM", "SOFT"];

/** The event's Pirelli code of a dry compound: ("SOFT", ["C3","C4","C5"]) → "C5"; "" otherwise. */
export function compoundCode(name, eventCodes) {
  const i = DRY.indexOf(String(name || "").toUpperCase());
  return i >= 0 && (eventCodes || []).length === 3 ? eventCodes[i] : "";
}
