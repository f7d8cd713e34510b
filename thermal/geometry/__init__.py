"""Geometry and materials: floorplans, power sources, stacks, the lumped die's parameters."""
