"""The dashboard's payload: every file the page loads from /static (JS, CSS, HTML, icon), raw and
gzip-compressed (issue 15: no CDN, no build step, the payload stays small). ``vendor/`` (Swagger UI
for the API docs page at /docs) is not part of the dashboard and is left out.

Usage:
    PYTHONPATH=src python benchmarks/bench_dashboard_payload.py
"""

from __future__ import annotations

import gzip

from f1analyzer.api.routes.web import STATIC_DIR


def main() -> None:
    rows = []
    for p in sorted(STATIC_DIR.rglob("*")):
        if p.is_file() and p.suffix in (".js", ".css", ".html", ".svg") and "vendor" not in p.parts:
            data = p.read_bytes()
            rows.append((p.relative_to(STATIC_DIR).as_posix(), len(data), len(gzip.compress(data, 9))))
    print("| file | bytes | gzip |\n|---|---|---|")
    for name, raw, gz in rows:
        print(f"| {name} | {raw:,} | {gz:,} |")
    js_css = [(r, g) for n, r, g in rows if n.endswith((".js", ".css"))]
    print(f"| **JS + CSS** | **{sum(r for r, _ in js_css):,}** | **{sum(g for _, g in js_css):,}** |")
    print(f"| all | {sum(r for _, r, _ in rows):,} | {sum(g for _, _, g in rows):,} |")


if __name__ == "__main__":
    main()
