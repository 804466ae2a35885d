"""Read a whole city pack into a ``Pack``, checking every file before the database is touched.

Every problem is collected (``citypack.problems``) and all are reported at once; the
pack's fingerprint says whether ``flask city apply`` has anything new to do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from webapp.citypack.problems import Collector
from webapp.citypack.reading.answers_and_staff import read_answers, read_staff
from webapp.citypack.reading.catalogue import read_services
from webapp.citypack.reading.city_toml import read_icons, read_settings
from webapp.citypack.reading.files import read_bytes
from webapp.citypack.reading.places import read_boundary, read_neighborhoods


@dataclass
class Pack:
    """Everything a pack says, checked and ready to apply."""

    root: Path
    settings: dict
    departments: list[dict]
    boundary: dict
    neighborhoods: list[dict]
    services: list[dict]
    answers: list[dict]
    staff: list[dict]
    logo: tuple[str, bytes] | None = None
    icons: dict[str, bytes] | None = None
    fingerprint: str = ""
    files: list[str] = field(default_factory=list)


def _fingerprint(root: Path) -> tuple[str, list[str]]:
    digest = hashlib.sha256()
    names = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".") or rel.lower().startswith("readme"):
            continue
        names.append(rel)
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest(), names


def read_pack(root: str | Path, supported_locales=("en", "es")) -> Pack:
    """Read and check a pack; raises PackError listing every problem found."""
    root = Path(root)
    found = Collector()
    if not root.is_dir():
        found.add(str(root), "no such folder")
        found.raise_if_any()
    raw = read_bytes(root, "city.toml", found, required=True)
    found.raise_if_any()
    settings, departments = read_settings(raw, found, tuple(supported_locales))
    timezone = settings.get("timezone")
    boundary_raw = read_bytes(root, "boundary.geojson", found, required=True)
    boundary = read_boundary(boundary_raw, found, timezone) if boundary_raw else None
    hoods_raw = read_bytes(root, "neighborhoods.geojson", found, required=False)
    hoods = (
        read_neighborhoods(hoods_raw, found, timezone, settings.get("neighborhood_name_property",
                                                                "name"))
        if hoods_raw
        else []
    )
    if boundary and hoods:
        from shapely.geometry import shape

        city = shape(boundary)
        for hood in hoods:
            if not city.intersects(shape(hood["geojson"])):
                found.add("neighborhoods.geojson",
                          f"{hood['name']} lies wholly outside the city boundary")
    dept_names = {d["name"].lower() for d in departments}
    services = read_services(root, found, dept_names)
    answers = read_answers(root, found, settings.get("languages") or ["en"],
                       {s["code"] for s in services})
    staff = read_staff(read_bytes(root, "staff.csv", found, required=False), found, dept_names,
                   {h["name"].lower() for h in hoods})
    logo = None
    if settings.get("logo"):
        logo_name = str(settings["logo"])
        if "/" in logo_name or "\\" in logo_name or not logo_name.lower().endswith(
            (".svg", ".png")
        ):
            found.add("city.toml", "the logo is a .svg or .png file beside city.toml",
                      field="logo")
        else:
            data = read_bytes(root, logo_name, found, required=True)
            if data is not None:
                logo = (logo_name, data)
    icons = read_icons(root, found, settings, logo)
    found.raise_if_any()
    fingerprint, files = _fingerprint(root)
    return Pack(
        root=root,
        settings=settings,
        departments=departments,
        boundary=boundary,
        neighborhoods=hoods,
        services=services,
        answers=answers,
        staff=staff,
        logo=logo,
        icons=icons,
        fingerprint=fingerprint,
        files=files,
    )
