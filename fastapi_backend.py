"""Start the F1 Race Strategy Analyzer API (the seed's entry point).

    python fastapi_backend.py               # http://0.0.0.0:8000, docs at /docs
    DEBUG=true python fastapi_backend.py    # auto-reload
    HOST=127.0.0.1 PORT=9000 WORKERS=4 python fastapi_backend.py

Equivalent to ``f1analyzer serve``.
"""

from f1analyzer.cli.serve import run_server

if __name__ == "__main__":
    run_server()
