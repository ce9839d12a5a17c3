"""Scenario building: race parameters from the fitted models and the store, the field, tyre
rules, replays of real races and the synthetic demo race."""
