"""A mixed batch of 30 e-mails to the 311 mailbox, 18 in English and 12 in Spanish,
as residents write them: short, informal, an address in the text or a phone photo with
its GPS, some questions and some mail that is not a report at all.

Each entry: (language, expected service code or None when it must not become a
request, subject, body, with the GPS photo). The places are those of ``PLACES``, which
the tests' geocoder knows; the photo is ``tests/data/orientation6_gps.jpg`` (downtown).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from tests.fakes.nominatim import place

PHOTO = Path(__file__).resolve().parents[1] / "orientation6_gps.jpg"

PLACES = [
    place(11, "1200", "Market Street", 35.0400, -85.3090),
    place(12, "400", "Broad Street", 35.0500, -85.3110),
    place(13, "2100", "McCallie Avenue", 35.0330, -85.2800),
    place(14, "3100", "Brainerd Road", 35.0200, -85.2000),
    place(15, "800", "Main Street", 35.0380, -85.3000),
]

BATCH: list[tuple[str, str | None, str, str, bool]] = [
    # --- English
    (
        "en",
        "pothole",
        "Pothole",
        "There is a deep pothole in the road at 1200 Market Street.",
        False,
    ),
    (
        "en",
        "pothole",
        "Potholes",
        "There are 2 big potholes in the road at 1200 Market Street",
        False,
    ),
    (
        "en",
        "streetlight",
        "Streetlight out",
        "The street light in front of 400 Broad Street has been out for a week, it is very "
        "dark at night.",
        False,
    ),
    (
        "en",
        "missed_trash",
        "Missed pickup",
        "Our trash was not picked up on our street this Tuesday. The bin is still full at "
        "2100 McCallie Avenue.",
        False,
    ),
    (
        "en",
        "graffiti",
        "Graffiti",
        "Someone sprayed graffiti at 101 East 11th Street last night.",
        False,
    ),
    (
        "en",
        "pothole",
        "Pothole on Main",
        "Can someone please fix the pothole at 800 Main Street? It is getting worse.",
        False,
    ),
    (
        "en",
        "dead_animal",
        "Dead deer",
        "There is a dead deer on the side of the road near 3100 Brainerd Road.",
        False,
    ),
    (
        "en",
        "fallen_tree",
        "Tree down",
        "A big tree branch fell across the sidewalk after the storm.",
        True,
    ),
    (
        "en",
        "abandoned_vehicle",
        "Abandoned car",
        "A car with flat tires has been parked at 400 Broad Street for three weeks.",
        False,
    ),
    ("en", "street_sign", "Stop sign down", "The stop sign at the corner was knocked over.", True),
    (
        "en",
        "traffic_signal",
        "Traffic light stuck",
        "The traffic light at 800 Main Street is stuck on red.",
        False,
    ),
    (
        "en",
        "overgrown_lot",
        "Weeds",
        "The vacant lot at 2100 McCallie Avenue is full of tall weeds and grass.",
        False,
    ),
    (
        "en",
        "illegal_dumping",
        "Dumping",
        "Someone dumped a mattress and old tires in the alley.",
        True,
    ),
    ("en", "park_maintenance", "Playground", "The swings at the playground are broken.", True),
    (
        "en",
        "sidewalk",
        "Cracked sidewalk",
        "The sidewalk is cracked and raised at 1200 Market Street, people trip on it.",
        False,
    ),
    ("en", None, "Bulky pickup?", "When is bulky item pickup in my neighborhood?", False),
    ("en", None, "Neighbors", "I want to complain about the noise from my neighbors.", False),
    ("en", None, "Thank you", "Thank you for fixing the road last week!", False),
    # --- Spanish
    (
        "es",
        "pothole",
        "Bache enorme",
        "Hay un bache enorme en la calle, casi me revienta una llanta.",
        True,
    ),
    (
        "es",
        "streetlight",
        "Luz apagada",
        "La luminaria de la esquina lleva una semana apagada, está muy oscuro de noche. "
        "Está frente al 400 Broad Street.",
        False,
    ),
    (
        "es",
        "missed_trash",
        "No pasaron por la basura",
        "No recogieron la basura de nuestra calle el martes. El contenedor sigue lleno en el "
        "2100 McCallie Avenue.",
        False,
    ),
    (
        "es",
        "graffiti",
        "Grafiti en la pared",
        "Alguien pintó grafiti en la pared de la biblioteca, en el 101 East 11th Street.",
        False,
    ),
    (
        "es",
        "traffic_signal",
        "Semáforo",
        "El semáforo de la esquina está apagado, es peligroso para los peatones.",
        True,
    ),
    (
        "es",
        "dead_animal",
        "Animal muerto",
        "Hay un perro muerto en la acera del 800 Main Street.",
        False,
    ),
    (
        "es",
        "fallen_tree",
        "Árbol caído",
        "Se cayó una rama grande de un árbol y bloquea el paso.",
        True,
    ),
    (
        "es",
        "abandoned_vehicle",
        "Carro abandonado",
        "Hay un carro abandonado desde hace semanas en el 3100 Brainerd Road, con las llantas "
        "ponchadas.",
        False,
    ),
    (
        "es",
        "illegal_dumping",
        "Basura tirada",
        "Tiraron un colchón y muebles viejos en el terreno de al lado.",
        True,
    ),
    (
        "es",
        "sidewalk",
        "Acera rota",
        "La acera está levantada y alguien se puede tropezar, en el 1200 Market Street.",
        False,
    ),
    (
        "es",
        None,
        "Ruido",
        "Hola, quería saber si ustedes ayudan con problemas con los vecinos.",
        False,
    ),
    ("es", None, "Gracias", "Muchas gracias por arreglar la calle la semana pasada.", False),
]


def raw(index: int, entry, *, domain: str = "example.net") -> bytes:
    """The e-mail of one batch entry, from its own resident."""
    language, _expected, subject, body, photo = entry
    message = EmailMessage()
    name = "Rosa Vecina" if language == "es" else "Sam Resident"
    message["From"] = f"{name} <resident{index}@{domain}>"
    message["To"] = "311@civic311.example"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=f"batch{index}", domain=domain)
    message.set_content(body)
    if photo:
        message.add_attachment(
            PHOTO.read_bytes(), maintype="image", subtype="jpeg", filename="foto.jpg"
        )
    return message.as_bytes()
