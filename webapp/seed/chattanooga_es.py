"""The demo city in Spanish: every service, question, choice and response template.

Kept beside ``chattanooga.py`` and applied by :func:`seed_translations`; words follow
``docs/glossary-es.md``. A real city enters these in the admin (Translations).
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.content_i18n import set_translation
from webapp.models import ResponseTemplate, Service
from webapp.plumbing.extensions import db

LOCALE = "es"

GROUPS = {
    "Streets": "Calles",
    "Neighborhood": "Vecindario",
    "Trash and recycling": "Basura y reciclaje",
    "Parks": "Parques",
}

SERVICES = {
    "pothole": ("Bache", "Un hueco o pavimento roto en una calle."),
    "sidewalk": ("Acera dañada", "Acera agrietada, levantada o que falta."),
    "streetlight": (
        "Luminaria apagada",
        "Una luminaria que está apagada, parpadea o está encendida de día.",
    ),
    "traffic_signal": (
        "Problema con un semáforo",
        "Un semáforo apagado, trabado o dañado.",
    ),
    "street_sign": (
        "Señal de tránsito dañada",
        "Una señal de calle o de tránsito que falta, está doblada o no se puede leer.",
    ),
    "graffiti": ("Grafiti", "Grafiti en una pared, una señal u otra superficie."),
    "illegal_dumping": (
        "Basura tirada ilegalmente",
        "Basura, llantas o muebles tirados donde no deben estar.",
    ),
    "overgrown_lot": ("Terreno con maleza", "Maleza o pasto alto en un terreno baldío."),
    "abandoned_vehicle": (
        "Vehículo abandonado",
        "Un vehículo que no se ha movido en mucho tiempo.",
    ),
    "missed_trash": (
        "No recogieron la basura",
        "No recogieron su basura o su reciclaje el día que correspondía.",
    ),
    "dead_animal": ("Animal muerto", "Un animal muerto en una calle o una acera."),
    "park_maintenance": (
        "Mantenimiento de parques",
        "Juegos rotos, basura o daños en un parque de la ciudad.",
    ),
    "fallen_tree": (
        "Árbol o rama caída",
        "Un árbol o una rama grande caída en una calle, una acera o un parque.",
    ),
}

# Words residents write in Spanish for each service (read by the e-mail intake to tell
# what an e-mailed report is about; the English ones are the services' own keywords).
KEYWORDS = {
    "pothole": "hueco, hoyo, pozo, asfalto, pavimento",
    "sidewalk": "banqueta, tropiezo, grieta, bordillo, levantada",
    "streetlight": "luz, luces, farola, poste, foco, alumbrado, oscuro, apagada",
    "traffic_signal": "semáforo, señal de tránsito, luz roja, peatonal",
    "street_sign": "señal, letrero, alto, rótulo, doblada",
    "graffiti": "pintura, pintas, pintada, vandalismo, rayones",
    "illegal_dumping": "colchón, muebles, escombros, llantas, tiradero, tiraron",
    "overgrown_lot": "maleza, pasto, hierba, baldío, monte",
    "abandoned_vehicle": "carro, coche, auto, camioneta, estacionado, abandonado",
    "missed_trash": "recogieron, recolección, contenedor, bote, camión de la basura, reciclaje",
    "dead_animal": "muerto, perro, gato, venado, cadáver",
    "park_maintenance": "columpio, juegos, banca, parque, resbaladilla",
    "fallen_tree": "árbol, rama, ramas, tronco, tormenta, cayó",
}

# (service, question code) → (question, {choice key: name})
QUESTIONS = {
    ("pothole", "size"): (
        "¿Qué tan grande es?",
        {
            "small": "Más pequeño que un plato",
            "medium": "Del tamaño de una llanta de carro",
            "large": "Más grande que una llanta de carro",
        },
    ),
    ("pothole", "lane"): (
        "¿En qué parte de la calle está?",
        {
            "travel": "En un carril de circulación",
            "turn": "En un carril para dar vuelta",
            "shoulder": "En el acotamiento o la orilla",
            "crosswalk": "En un paso peatonal",
        },
    ),
    ("streetlight", "problem"): (
        "¿Qué le pasa a la luminaria?",
        {
            "out": "Está apagada",
            "flickering": "Parpadea",
            "day": "Está encendida de día",
        },
    ),
    ("streetlight", "pole_number"): (
        "Número del poste, si lo ve (una placa de metal en el poste)",
        {},
    ),
    ("graffiti", "property"): (
        "¿Está en propiedad pública o privada?",
        {
            "public": "Propiedad pública (calle, señal, parque)",
            "private": "Propiedad privada (una casa, un negocio)",
        },
    ),
    ("graffiti", "offensive"): ("¿Es ofensivo o de odio?", {"yes": "Sí", "no": "No"}),
    ("abandoned_vehicle", "plate"): ("Placa, si se ve", {}),
}

# (service or None, status, resolution, title, body, título, texto)
TEMPLATES = [
    (
        None,
        "acknowledged",
        None,
        "Received and scheduled",
        "Thank you for your report. A crew has it on their list.",
        "Recibida y programada",
        "Gracias por su reporte. Una cuadrilla ya lo tiene en su lista.",
    ),
    (
        None,
        "closed",
        "fixed",
        "Fixed",
        "The crew fixed this. Thank you for letting us know.",
        "Resuelta",
        "La cuadrilla lo reparó. Gracias por avisarnos.",
    ),
    (
        None,
        "closed",
        "cannot_locate",
        "Could not find it",
        "The crew could not find the problem at this spot. "
        "If it is still there, please make a new report with a photo.",
        "No lo encontramos",
        "La cuadrilla no encontró el problema en este lugar. "
        "Si sigue ahí, haga un reporte nuevo con una foto.",
    ),
    (
        "pothole",
        "closed",
        "fixed",
        "Pothole filled",
        "The pothole was filled and sealed.",
        "Bache tapado",
        "El bache se rellenó y se selló.",
    ),
    (
        "graffiti",
        "closed",
        "fixed",
        "Graffiti removed",
        "The graffiti was painted over.",
        "Grafiti eliminado",
        "Se pintó encima del grafiti.",
    ),
]


def seed_templates() -> None:
    """The demo's response templates (English and Spanish), once."""
    if db.session.scalars(select(ResponseTemplate)).first() is not None:
        return
    services = {s.service_code: s for s in db.session.scalars(select(Service))}
    for code, status, resolution, title, body, title_es, body_es in TEMPLATES:
        template = ResponseTemplate(
            service_id=services[code].id if code in services else None,
            status=status,
            resolution=resolution,
            title=title,
            body=body,
        )
        set_translation(template, LOCALE, {"title": title_es, "body": body_es})
        db.session.add(template)
    db.session.flush()


def seed_translations() -> None:
    """Spanish for every demo service and question (kept when an admin already set one)."""
    for service in db.session.scalars(select(Service)):
        known = SERVICES.get(service.service_code)
        if known is None or (service.translations or {}).get(LOCALE):
            continue
        name, description = known
        group = GROUPS.get(service.group, "")
        set_translation(
            service,
            LOCALE,
            {
                "name": name,
                "description": description,
                "group": group,
                "keywords": KEYWORDS.get(service.service_code, ""),
            },
        )
        for attribute in service.attributes:
            question = QUESTIONS.get((service.service_code, attribute.code))
            if question is not None:
                text, choices = question
                set_translation(attribute, LOCALE, {"description": text, "values": choices})
    db.session.flush()
