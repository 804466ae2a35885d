"""Waiting for the page's service worker with a time limit.

``page.evaluate`` has no timeout of its own: evaluating ``navigator.serviceWorker.ready``
on a page whose worker never registers (JavaScript off, a failed install) waits for
ever and stalls the whole run. These waits are bounded by Playwright's own timeout.
"""

from __future__ import annotations

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

_NOTE_WHEN_READY = """() => {
  window.__civicWorkerReady = false;
  if (!('serviceWorker' in navigator)) { window.__civicWorkerReady = true; return; }
  navigator.serviceWorker.ready.then(() => { window.__civicWorkerReady = true; });
}"""


def service_worker_ready(page, *, timeout_ms: int = 20_000, required: bool = True) -> bool:
    """Wait until the page's service worker is active (its app shell saved).

    Raises when it is not ready in time and ``required``; otherwise returns whether it
    became ready (a page without a worker simply returns False after the wait).
    """
    page.evaluate(_NOTE_WHEN_READY)
    try:
        page.wait_for_function(
            "() => window.__civicWorkerReady === true", timeout=timeout_ms, polling=100
        )
        return True
    except PlaywrightTimeoutError:
        if required:
            raise AssertionError(
                f"the service worker was not active after {timeout_ms / 1000:.0f} s"
            ) from None
        return False
