"""The engine core: race parameters, simulator state, random draws, per-lap effects, the
vectorised engine, results and the plain-loop reference that checks it."""
