"""Map tiles in the service worker: only tiles actually viewed are kept, cross-origin
(opaque) tiles included, and they show again offline."""

from __future__ import annotations

import pytest

from tests.browser.test_pwa_shell import eventually, wait_for_control

TILES_CACHE_SIZE = "caches.open('civic311-tiles-v1').then(c => c.keys()).then(k => k.length)"
SHOW_TILE = """url => new Promise(resolve => {
  const img = new Image();
  img.alt = "";
  img.onload = () => resolve(img.naturalWidth);
  img.onerror = () => resolve(0);
  img.src = url;
  document.body.append(img);
})"""


@pytest.fixture
def live_app(make_app, tile_server):
    """The app pointed at the fake tile server."""
    return make_app(TILE_URL=tile_server.url + "/{z}/{x}/{y}.png")


def test_viewed_tiles_are_cached_and_shown_offline_and_none_are_prefetched(
    live_server, tile_server, browser_context, page
):
    page.goto("/")
    wait_for_control(page)
    assert page.evaluate(TILES_CACHE_SIZE) == 0
    assert tile_server.fake.requested == []

    tile = tile_server.url + "/15/8710/12980.png"
    assert page.evaluate(SHOW_TILE, tile) == 256
    eventually(page, f"() => {TILES_CACHE_SIZE}.then(n => n === 1)")
    assert tile_server.fake.requested == ["/15/8710/12980.png"]

    browser_context.set_offline(True)
    assert page.evaluate(SHOW_TILE, tile) == 256
    assert page.evaluate(SHOW_TILE, tile_server.url + "/15/8711/12980.png") == 0
    assert tile_server.fake.requested == ["/15/8710/12980.png"]
