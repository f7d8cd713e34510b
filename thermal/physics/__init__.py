"""Discretised physics: assembly, solvers, solutions, estimates, mesh-sizing methods, verification."""
