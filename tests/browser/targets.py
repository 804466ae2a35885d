"""Measure what a finger has to hit: every interactive element's box on a page.

A radio button or checkbox is hit through its label too, so its target is the union of
the two boxes: what really answers a tap, not the row drawn around them (a 44 px row
whose 24 px label alone responds is a 24 px target). A row that is one label (the input
inside it) is therefore one target, as big as the row. A file input is hit through its
label (the big button). Links inside running text (a sentence, the map's attribution
line) are exempt, as WCAG 2.5.8 exempts inline targets; so is the skip link while it is
off screen.
"""

from __future__ import annotations

MIN_TARGET_PX = 44

SMALL_TARGETS = """(min) => {
  const INLINE_PARENTS = "p, dd, figcaption, .leaflet-control-attribution, .hint, td p";
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex='-1'])";
  const union = (a, b) => {
    const left = Math.min(a.left, b.left), top = Math.min(a.top, b.top);
    const right = Math.max(a.right, b.right), bottom = Math.max(a.bottom, b.bottom);
    return {width: right - left, height: bottom - top};
  };
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: false})) continue;
    if (el.closest("[hidden], .visually-hidden, .skip-link")) continue;
    if (el.tagName === "A" && el.closest(INLINE_PARENTS)) continue;
    let box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (el.type === "radio" || el.type === "checkbox" || el.type === "file") {
      const label = (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest("label");
      if (label) {
        box = el.type === "file" ? label.getBoundingClientRect() : union(box, label.getBoundingClientRect());
      }
    }
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      const name = (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "").trim().slice(0, 40);
      small.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${name}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}"""


def small_targets(page, minimum: int = MIN_TARGET_PX) -> list[str]:
    """The interactive elements on the page smaller than ``minimum`` CSS px either way."""
    return page.evaluate(SMALL_TARGETS, minimum)
