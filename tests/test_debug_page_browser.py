"""The ``debug=True`` traceback page in a real headless Chromium: each frame's button opens and closes its source.

The page is rendered for an exception raised through a recursion, so frames repeat (same file, same
line): each button must still toggle its own frame.
"""

from __future__ import annotations

from pathlib import Path

from typedasgi.middleware.debug_page import html_traceback

from tests.test_docs_browser import DevTools, browser  # noqa: F401  # the browser fixture, shared


def _countdown(n: int) -> None:
    if n == 0:
        raise LookupError("bottom <of> the recursion")
    _countdown(n - 1)


def _raised() -> LookupError:
    try:
        _countdown(3)
    except LookupError as exc:
        return exc
    raise AssertionError("not raised")  # pragma: no cover


VISIBLE = "Array.from(document.querySelectorAll('.source-code')).map((s) => !s.classList.contains('collapsed'))"


def test_each_frame_button_toggles_its_own_source(browser: DevTools, tmp_path: Path) -> None:
    page = tmp_path / "debug.html"
    page.write_text(html_traceback(_raised()), encoding="utf-8")
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    browser.call("Page.enable", {}, session)
    browser.call("Page.navigate", {"url": page.as_uri()}, session)
    for _ in range(200):
        if browser.evaluate("document.readyState", session) == "complete":
            break
    shown = browser.evaluate(VISIBLE, session)
    assert shown[:4] == [True, False, False, False]  # innermost open; the repeated _countdown frames closed
    buttons = "document.querySelectorAll('.collapse-btn')"
    browser.evaluate(f"{buttons}[2].click()", session)  # the second of the repeated frames
    assert browser.evaluate(VISIBLE, session)[:4] == [True, False, True, False]
    browser.evaluate(f"{buttons}[0].click()", session)
    assert browser.evaluate(VISIBLE, session)[:4] == [False, False, True, False]
    assert browser.evaluate("document.querySelector('h2').textContent", session) == (
        "LookupError: bottom <of> the recursion"  # escaped in the HTML, shown as text
    )
