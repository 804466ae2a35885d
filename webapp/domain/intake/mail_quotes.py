"""The new words of an e-mailed reply, and public text with no address or secret link.

A resident's reply to one of our messages carries our message under their words, in
whatever style their mail program quotes: ``>`` lines, a Gmail or Apple Mail line
("On … wrote:", "El … escribió:"), an Outlook header block (From:/Sent:/To: or
De:/Enviado:/Para:) after a line of underscores, a forwarded-message banner, and a
signature ("-- ", "Sent from my iPhone"). Our message holds the resident's address and
their unsubscribe link, so only the new words may reach a public comment.

:func:`new_text` lets ``mail-parser-reply`` (a maintained, multi-language reply parser)
split the message, then cuts at the first quote line it still left (its Spanish
"escribió" pattern misses Gmail's one-line form, and a line wrapped by the mail program
misses both languages). :func:`redact` then hides what must never be published anyway:
e-mail addresses and links that carry a token (an unsubscribe, "fixed" or sign-in link).
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

REDACTED = "[…]"
LANGUAGES = ["en", "es"]
ADDRESS = re.compile(r"(?:mailto:)?[\w.+'%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# Parts of a link that are secrets: a long run of letters and digits mixed (signed
# tokens, random ids), or a query parameter named like one.
TOKEN_PART = re.compile(
    r"^(?=[A-Za-z0-9_.=~-]*\d)(?=[A-Za-z0-9_.=~-]*[A-Za-z])[A-Za-z0-9_.=~-]{16,}$"
)
SECRET_PARAMETER = re.compile(
    r"[?&](?:token|key|sig|signature|auth|code|session|sid|unsubscribe|u|t)=", re.IGNORECASE
)
# Our own e-mail action links (/e/fixed/…, /e/unsubscribe/…) are always tokenised.
ACTION_PATH = re.compile(r"/e/[a-z-]+/", re.IGNORECASE)

HEADER_NAMES = r"from|sent|to|subject|date|cc|de|enviado|para|asunto|fecha|enviado el|von|gesendet"
HEADER_LINE = re.compile(rf"^\s*\*?(?:{HEADER_NAMES})\s*:\*?\s", re.IGNORECASE)
WROTE = re.compile(
    r"^\s*(?:>\s*)*(?:On|El|Am|Le)\s.{4,300}?\s(?:wrote|escribió|escribio|schrieb|a écrit)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
BANNERS = re.compile(
    r"^\s*(?:_{10,}|-{2,}\s*(?:original message|mensaje original|forwarded message|"
    r"mensaje reenviado)\s*-{2,}|begin forwarded message:|inicio del mensaje reenviado:)\s*$",
    re.IGNORECASE,
)
SIGNATURE = re.compile(
    r"^\s*(?:--\s*|sent from my [\w ]+|enviado desde mi [\w ]+|get outlook for \w+|"
    r"obtener outlook para \w+|descargar outlook para \w+)\s*$",
    re.IGNORECASE,
)

_parser = EmailReplyParser(languages=LANGUAGES)


def _quote_starts_at(lines: list[str], index: int) -> bool:
    """Whether the quoted part (or the signature) begins at ``lines[index]``."""
    line = lines[index]
    if line.lstrip().startswith(">") or BANNERS.match(line) or SIGNATURE.match(line):
        return True
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if WROTE.match(line) or (line.strip() and WROTE.match(f"{line} {following}")):
        return True
    # An Outlook header block: two header lines in a row, the first a From/De.
    return bool(
        re.match(r"^\s*\*?(?:from|de)\s*:", line, re.IGNORECASE) and HEADER_LINE.match(following)
    )


def cut_quote(text: str) -> str:
    """``text`` up to the first line where a quote or signature begins."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index in range(len(lines)):
        if _quote_starts_at(lines, index):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def new_text(text: str) -> str:
    """The words the sender wrote in this reply, without what they quoted or signed."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    try:
        parsed = _parser.parse_reply(text) or ""
    except Exception:  # noqa: BLE001 - a parser failure falls back to our own cut
        parsed = text
    # The library drops a reply it takes for a signature alone ("Thanks, …"): keep ours.
    ours = cut_quote(text)
    chosen = cut_quote(parsed) if parsed.strip() else ours
    return chosen if chosen else ours


def _is_secret_link(url: str) -> bool:
    if ACTION_PATH.search(url) or SECRET_PARAMETER.search(url):
        return True
    parts = re.split(r"[/?&#=]", url.split("://", 1)[-1])
    return any(TOKEN_PART.match(part) for part in parts[1:])


def redact(text: str) -> str:
    """``text`` with every e-mail address and every tokenised link replaced by "[…]"."""
    text = URL.sub(lambda m: REDACTED if _is_secret_link(m.group(0)) else m.group(0), text)
    return ADDRESS.sub(REDACTED, text)


def public_reply(text: str) -> str:
    """What of an e-mailed reply may be published: its new words, redacted."""
    return redact(new_text(text)).strip()
