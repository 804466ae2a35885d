"""Which service an e-mailed report is about, from its words in English or Spanish.

Every public service gets a vocabulary from the city's own content, in each language:

=========================================================  ======
where the word comes from                                   weight
=========================================================  ======
the service's name (English, and each translation's name)   3
a phrase of several words among its keywords, found whole   3
its keywords (English; ``translations[lang]["keywords"]``)  2
keywords of the knowledge answers shown with the service    1
=========================================================  ======

Words are compared by their Snowball stem in their own language (English words with the
English stemmer, Spanish with the Spanish one, accents folded), so "baches" finds
"bache" and "potholes" finds "pothole". A word that several services share counts for
each of them divided by how many share it, and place words that every report holds
("street", "calle", "road", "corner"…) count for nothing: a missed pickup "on our
street" is not a pothole. The best service wins only with at least ``MIN_SCORE`` and a
lead of ``MIN_LEAD`` over the next; anything less is left to a person (triage). The
subject line, the sender's own headline, counts twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.models import Answer, Service
from webapp.plumbing.extensions import db

MIN_SCORE = 2.0
MIN_LEAD = 1.0
NAME, PHRASE, KEYWORD, ANSWER_KEYWORD = 3.0, 3.0, 2.0, 1.0
STEMMERS = {"en": "english", "es": "spanish"}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Words of place and politeness that any report may hold: never evidence of a kind of
# problem. Compared after stemming, like everything else.
GENERIC = {
    "en": "street st road rd avenue ave lane drive way corner block near front side house "
    "home city area problem issue please thanks thank report hello hi there big small "
    "broken help today yesterday week",
    "es": "calle avenida camino carretera esquina cuadra frente lado casa ciudad zona "
    "problema favor gracias reporte hola grande pequeño roto ayuda hoy ayer semana",
}
STOP = {
    "en": "the a an and or of in on at to is are was were it this that there my our for "
    "with by from has have be not no out up",
    "es": "el la los las un una y o de del en a al es son esta está estan están hay mi "
    "mis nuestro nuestra por para con que se su sus no lo le",
}


@dataclass
class Choice:
    """The chosen service (None: unclear) and every service's score, best first."""

    service: Service | None
    scores: list[tuple[str, float]]


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_stemmers: dict[str, object] = {}


@lru_cache(maxsize=20_000)
def _stem(word: str, language: str) -> str:
    stemmer = _stemmers.get(language)
    if stemmer is None:
        stemmer = _stemmers[language] = snowballstemmer.stemmer(STEMMERS[language])
    return _fold(stemmer.stemWord(word.lower()))


@cache
def _ignored(language: str) -> frozenset[str]:
    return frozenset(_stem(w, language) for w in (GENERIC[language] + " " + STOP[language]).split())


def _stems(text: str, language: str) -> list[str]:
    ignored = _ignored(language)
    return [
        stem
        for stem in (_stem(w, language) for w in WORD.findall(text or "") if len(w) > 2)
        if stem not in ignored
    ]


def _split_keywords(value) -> list[str]:
    if not isinstance(value, str):
        return []
    return [k.strip() for k in re.split(r"[,;\n]", value) if k.strip()]


def _texts(row, field: str, language: str):
    if language == "en":
        return getattr(row, field) or ""
    value = ((row.translations or {}).get(language) or {}).get(field)
    return value if isinstance(value, str) else ""


def vocabulary() -> dict[str, dict[tuple[str, str], float]]:
    """``{service_code: {(language, stem or phrase): weight}}`` for every public service."""
    services = list(
        db.session.scalars(
            select(Service).where(Service.active.is_(True), Service.public.is_(True))
        )
    )
    answers = list(db.session.scalars(select(Answer).options(selectinload(Answer.services))))
    words: dict[str, dict[tuple[str, str], float]] = {s.service_code: {} for s in services}

    def add(code: str, language: str, text: str, weight: float) -> None:
        for stem in _stems(text, language):
            key = (language, stem)
            words[code][key] = max(words[code].get(key, 0.0), weight)

    for service in services:
        code = service.service_code
        for language in STEMMERS:
            add(code, language, _texts(service, "name", language), NAME)
            for keyword in _split_keywords(_texts(service, "keywords", language)):
                if " " in keyword:
                    words[code][(language, "phrase:" + _fold(keyword))] = PHRASE
                add(code, language, keyword, KEYWORD)
    for answer in answers:
        for service in getattr(answer, "services", None) or ():
            if service.service_code not in words:
                continue
            for language in STEMMERS:
                for keyword in _split_keywords(_texts(answer, "keywords", language)):
                    add(service.service_code, language, keyword, ANSWER_KEYWORD)
    return words


def score(text: str, words: dict[str, dict[tuple[str, str], float]]) -> list[tuple[str, float]]:
    """Every service's score for ``text``, best first (ties by service code)."""
    found = {(language, stem) for language in STEMMERS for stem in _stems(text, language)}
    folded = " " + " ".join(WORD.findall(_fold(text))) + " "
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for vocabulary_ in words.values():
        for key in vocabulary_:
            shared[key] += 1
    results = []
    for code, vocabulary_ in words.items():
        total = 0.0
        for key, weight in vocabulary_.items():
            language, term = key
            if term.startswith("phrase:"):
                hit = f" {term[len('phrase:') :]} " in folded
            else:
                hit = key in found
            if hit:
                total += weight / shared[key]
        results.append((code, round(total, 2)))
    return sorted(results, key=lambda item: (-item[1], item[0]))


def choose(text: str, subject: str = "", words=None) -> Choice:
    """The service ``text`` (with its ``subject``) is about, or None when no service
    clearly leads. The subject is the sender's own headline for the problem: its words
    count twice. ``words``: a :func:`vocabulary` already built (one per mailbox poll)."""
    words = words if words is not None else vocabulary()
    scores = score(f"{subject}\n{text}", words)
    if subject.strip():
        extra = dict(score(subject, words))
        scores = sorted(
            ((code, round(points + extra.get(code, 0.0), 2)) for code, points in scores),
            key=lambda item: (-item[1], item[0]),
        )
    if not scores:
        return Choice(None, scores)
    (best_code, best), runner_up = scores[0], (scores[1][1] if len(scores) > 1 else 0.0)
    if best < MIN_SCORE or best - runner_up < MIN_LEAD:
        return Choice(None, scores)
    service = db.session.scalars(select(Service).where(Service.service_code == best_code)).one()
    return Choice(service, scores)
