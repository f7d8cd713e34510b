"""Hotspot prediction from the floorplan alone, and the size field it gives the mesher.

floorplan -> :mod:`~hotspot_ml.features` -> :mod:`~hotspot_ml.model` (regressor) ->
:mod:`~hotspot_ml.predict` (field, hotspots, size field). :mod:`~hotspot_ml.generate` makes
synthetic floorplans and :mod:`~hotspot_ml.train` trains the regressor on them.
"""
