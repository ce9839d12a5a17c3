"""Planning on top of the engine: strategy screening, the optimiser, the live advisor and the
undercut/overcut calculator."""
