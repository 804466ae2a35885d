"""Counts and reads: the /stats rollups, the map's grid counts and reads, channel figures,
and the public exports. Rollups and grid counts follow the requests a flush changed.

May import: the shared domain modules and ``geo``. Nothing writes through here.
"""
