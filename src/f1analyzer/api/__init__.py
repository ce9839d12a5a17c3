"""The HTTP API (FastAPI). ``create_app()`` builds it; routes are thin, logic lives below."""
