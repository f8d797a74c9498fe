"""The fault and load suite behind bench/soak.py: topology, load, faults, bad input, invariants."""
