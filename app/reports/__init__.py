"""Rendering of the clinician's trend report: the SVG chart and the printable HTML page.

Pure functions over already-computed trend objects; loading data and HTTP live elsewhere.
"""
