"""The words a texter may send as a command, in English and Spanish.

Carrier keywords (CTIA): STOP and its synonyms stop every message to the number, START
resumes, HELP explains. PARAR and AYUDA are their Spanish forms. A whole message that is
one of them is the command; "stop sign knocked down" is a report, not a STOP.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

STOP = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "parar", "detener", "alto"}
START = {"start", "unstop", "comenzar", "iniciar"}
HELP = {"help", "info", "ayuda"}
SPANISH_WORDS = {"parar", "detener", "alto", "comenzar", "iniciar", "ayuda", "espanol", "estado"}
SPANISH = {"espanol", "spanish"}
ENGLISH = {"english", "ingles"}
SKIP = {"skip", "no", "omitir", "saltar", "sin foto", "no photo", "no foto", "none", "ninguna"}
MENU = {"menu", "menú"}
PUBLIC_ID = re.compile(r"\b311[-\s]?(\d{6})\b")
STATUS = re.compile(r"^\s*(status|estado)\b", re.I)
NOT_FIXED = re.compile(
    r"\b(not\s+fixed|still\s+broken|no\s+(est[aá]\s+)?arreglad[oa]|sigue\s+igual)\b", re.I
)


def fold(text: str) -> str:
    """Lower case, accents removed, spaces squeezed: how commands are compared."""
    decomposed = unicodedata.normalize("NFKD", (text or "").strip().lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[.!¡¿?]+$", "", plain)).strip()


@dataclass(frozen=True)
class Command:
    """What a message asks: ``kind`` and the request number it names, if any."""

    kind: str  # stop | start | help | spanish | english | skip | menu | status | not_fixed | text
    public_id: str | None = None
    spanish: bool = False


def read(text: str) -> Command:
    """The command ``text`` is (``text`` when it is just words for the conversation)."""
    word = fold(text)
    spanish = word in SPANISH_WORDS
    for kind, words in (
        ("stop", STOP),
        ("start", START),
        ("help", HELP),
        ("spanish", SPANISH),
        ("english", ENGLISH),
        ("skip", SKIP),
        ("menu", MENU),
    ):
        if word in words:
            return Command(kind, spanish=spanish or kind == "spanish")
    found = PUBLIC_ID.search(text or "")
    if found:
        public_id = f"311-{found.group(1)}"
        if NOT_FIXED.search(text):
            return Command("not_fixed", public_id, spanish=bool(re.search(r"\bno\b", word)))
        rest = fold(PUBLIC_ID.sub(" ", text))
        if not rest or STATUS.match(rest) or rest in ("status", "estado"):
            return Command("status", public_id, spanish=rest.startswith("estado"))
    return Command("text")
