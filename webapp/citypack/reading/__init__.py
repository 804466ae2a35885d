"""Read a city pack folder into plain data, checking everything before the database is
touched. Every problem names its file, line and field; all are reported at once.

Layout (see docs/city-packs.md)::

    city.toml               settings, departments, colours, map, geocoder, hours
    boundary.geojson        the city limits (Polygon or MultiPolygon, WGS84)
    neighborhoods.geojson   a FeatureCollection; the name property is set in city.toml
    services.csv            one row per service (or services.json with everything)
    questions.csv           the services' questions and their choices
    answers/<slug>.md       knowledge answers (TOML front matter between +++ lines),
    answers/<slug>.es.md    and the same answer in another language
    staff.csv               staff and liaison accounts (no passwords)
    logo, icon              the logo (.svg or .png) and the square image app icons are
                            drawn from (a PNG logo serves when no icon is named)

One module a part of the pack: ``files`` (bytes, text, JSON, CSV rows), ``city_toml``,
``places`` (boundary, neighborhoods), ``catalogue`` (services, questions),
``answers_and_staff``, and ``pack`` (``read_pack``: all of them, in order, into a ``Pack``).
"""
