// Downloads (issue 15): every chart as SVG or PNG, every table as CSV, built in the page from what
// is on screen (no server round trip). A chart's SVG is serialised with the styles the page's CSS
// gives it inlined and the compound patterns copied in, so the file looks the same on its own.

const STYLE_PROPS = ["fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity",
  "opacity", "font-size", "font-family", "font-weight", "text-anchor", "dominant-baseline", "visibility", "display"];

function slug(text) {
  return String(text || "chart").toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "chart";
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The chart as a standalone SVG document (string). */
export function serializeSvg(svg) {
  const clone = svg.cloneNode(true);
  const src = [svg, ...svg.querySelectorAll("*")];
  const dst = [clone, ...clone.querySelectorAll("*")];
  // presentation attributes, not a style attribute: the page's CSP refuses inline styles
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    for (const p of STYLE_PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) dst[i].setAttribute(p, v);
    }
  });
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  const bg = getComputedStyle(svg.closest(".card") || document.body).backgroundColor;
  const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  clone.insertBefore(rect, clone.firstChild);
  for (const [k, v] of Object.entries({ x: 0, y: 0, width: "100%", height: "100%", fill: bg })) rect.setAttribute(k, v);
  const defs = document.querySelector("svg.defs defs");
  if (defs) clone.insertBefore(defs.cloneNode(true), clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

export function downloadSvg(svg, name) {
  save(new Blob([serializeSvg(svg)], { type: "image/svg+xml" }), `${slug(name)}.svg`);
}

/** PNG at twice the on-screen size: the SVG drawn onto a canvas. */
export function svgToPngBlob(svg, scaleBy = 2) {
  const text = serializeSvg(svg);
  const w = Number(svg.getAttribute("width")) || svg.clientWidth;
  const h = Number(svg.getAttribute("height")) || svg.clientHeight;
  return new Promise((resolve, reject) => {
    const img = new Image();
    // a data: URL, not a blob: one: the page's CSP allows images from 'self' and data: only
    const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = w * scaleBy;
      canvas.height = h * scaleBy;
      const ctx = canvas.getContext("2d");
      ctx.scale(scaleBy, scaleBy);
      ctx.drawImage(img, 0, 0, w, h);
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png");
    };
    img.onerror = () => reject(new Error("the chart could not be drawn as PNG"));
    img.src = url;
  });
}

export async function downloadPng(svg, name) {
  save(await svgToPngBlob(svg), `${slug(name)}.png`);
}

function csvCell(text) {
  const t = String(text ?? "").replace(/\s+/g, " ").trim();
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** A table's cells as CSV (header rows included), text as shown. */
export function tableToCsv(table) {
  return [...table.querySelectorAll("tr")]
    .map((tr) => [...tr.children].map((c) => csvCell(c.textContent)).join(","))
    .join("\n") + "\n";
}

export function downloadCsv(table, name) {
  save(new Blob([tableToCsv(table)], { type: "text/csv" }), `${slug(name)}.csv`);
}

function button(label, what, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "export-btn";
  b.textContent = label;
  b.setAttribute("aria-label", `Download ${what} as ${label}`);
  b.addEventListener("click", onClick);
  return b;
}

function nameOf(el) {
  const card = el.closest(".card, .panel");
  const h = card && card.querySelector("h2, h3");
  return (h && h.textContent) || el.id || "chart";
}

/**
 * Adds SVG/PNG buttons under every ``.chart-box`` and a CSV button to every ``.table-scroll`` in
 * ``root`` (once each); they act on whatever the box holds when clicked.
 */
export function addExportButtons(root = document, onError = console.error) {
  for (const box of root.querySelectorAll(".chart-box")) {
    if (box.dataset.exports) continue;
    box.dataset.exports = "1";
    const what = () => nameOf(box);
    const svgOf = () => box.querySelector("svg.chart") || box.querySelector("svg");
    const bar = document.createElement("div");
    bar.className = "export-bar";
    bar.append(
      button("SVG", `the ${what()} chart`, () => { const s = svgOf(); if (s) downloadSvg(s, what()); }),
      button("PNG", `the ${what()} chart`, () => { const s = svgOf(); if (s) downloadPng(s, what()).catch(onError); }),
    );
    box.after(bar);
  }
  for (const wrap of root.querySelectorAll(".table-scroll")) {
    if (wrap.dataset.exports) continue;
    wrap.dataset.exports = "1";
    const bar = document.createElement("div");
    bar.className = "export-bar";
    bar.append(button("CSV", `the ${nameOf(wrap)} table`, () => {
      const t = wrap.querySelector("table");
      if (t) downloadCsv(t, nameOf(wrap));
    }));
    wrap.after(bar);
  }
}
