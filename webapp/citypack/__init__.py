"""City packs: one folder a city keeps in its own repository (``city.toml``, boundary,
neighborhoods, service catalogue, answers, staff) read and applied by ``flask city apply``,
plus the imports of a catalogue and of old requests from the city's previous system.

See docs/city-packs.md.
"""
