"""Hotspot prediction from the floorplan alone (synthetic floorplans, features, regressor).

Not implemented yet: see the issue tracker.
"""
