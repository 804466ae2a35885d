"""Places: the city boundary and neighborhoods (shapely), nearby requests, the liaison
dashboard, and geocoding (geopy's Nominatim behind one module that fails soft).

May import: the shared domain modules and the models. Nothing else of the domain.
"""
