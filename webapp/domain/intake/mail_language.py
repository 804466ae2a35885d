"""The language an e-mail is written in, among the languages the city's site speaks.

Read with ``py3langid`` (a maintained fork of langid.py): a naive Bayes model over byte
n-grams that ships inside the package, so it needs no download and gives the same
answer for the same text every time (no sampling, nothing to seed). It is asked to
choose only among the site's languages (``SUPPORTED_LOCALES``), which is what makes a
two-line mail reliable. Too few letters, or a low confidence, and the mail counts as
written in the site's default language.

The answer is stored on the request (``ServiceRequest.locale``), so the auto-reply and
every later message about it are written in the resident's language.
"""

from __future__ import annotations

import threading

from flask import current_app

MIN_LETTERS = 12
MIN_CONFIDENCE = 0.75

_lock = threading.Lock()
_identifier = None


def _model():
    """The language model, loaded once per process (about a second)."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def _choices(config) -> list[str]:
    model = _model()
    known = set(model.nb_classes)
    wanted = [str(code).split("_")[0].lower() for code in config.get("SUPPORTED_LOCALES", ())]
    return sorted({code for code in wanted if code in known})


def detect(text: str, config=None) -> str:
    """The site language ``text`` is written in; the default language when unsure."""
    config = config or current_app.config
    default = config.get("BABEL_DEFAULT_LOCALE", "en")
    letters = sum(ch.isalpha() for ch in text or "")
    choices = _choices(config)
    if letters < MIN_LETTERS or len(choices) < 2:
        return default
    model = _model()
    with _lock:
        model.set_languages(choices)
        language, confidence = model.classify(text[:2000])
    return language if confidence >= MIN_CONFIDENCE else default
