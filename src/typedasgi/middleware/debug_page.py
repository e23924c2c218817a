"""The ``debug=True`` error page: the traceback as HTML, innermost frame first and open, with its source.

The page is put together from the six template strings below, which keep the
names and ``str.format`` fields Starlette's ``middleware.errors`` module has,
so code that builds its own page from them keeps working. Everything that
comes from the exception (file names, function names, source lines, the
message) is HTML-escaped before it goes in.
"""

from __future__ import annotations

import html
import linecache
import traceback

__all__ = ["CENTER_LINE", "FRAME_TEMPLATE", "JS", "LINE", "STYLES", "TEMPLATE", "html_traceback"]

STYLES = """
body { font-family: system-ui, -apple-system, sans-serif; margin: 2rem; color: #1f2328; }
h1 { font-size: 1.3rem; margin: 0 0 0.3rem; color: #a40e26; }
h2 { font-size: 1.05rem; font-weight: normal; margin: 0 0 1.5rem; word-break: break-word; }
.traceback-container { border: 1px solid #d0d7de; border-radius: 6px; overflow: hidden; }
.traceback-title { margin: 0; padding: 0.6rem 1rem; background: #24292f; color: #f6f8fa; font-weight: 600; }
.frame-title { margin: 0; padding: 0.5rem 1rem; background: #f6f8fa; border-top: 1px solid #d0d7de; }
.frame-filename { font-family: ui-monospace, monospace; }
.collapse-btn { float: right; min-width: 1.2rem; text-align: center; cursor: pointer;
                border: 1px solid #afb8c1; border-radius: 4px; background: #fff; }
.source-code { font-family: ui-monospace, monospace; font-size: 0.85rem; padding: 0.3rem 0; }
.source-code p { margin: 0; }
.frame-line { white-space: pre; padding-left: 1rem; }
.center-line { background: #ffebe9; }
.lineno { display: inline-block; min-width: 3rem; color: #6e7781; }
.collapsed { display: none; }
.full-traceback { margin-top: 1.5rem; padding: 1rem; background: #f6f8fa; overflow: auto; }
"""
"""The page's CSS (``{styles}`` of ``TEMPLATE``)."""

JS = """
<script>
document.addEventListener("click", function (event) {
    var button = event.target.closest(".collapse-btn");
    if (!button) { return; }
    var source = button.closest(".frame").querySelector(".source-code");  // ids repeat in a recursion
    var hidden = source.classList.toggle("collapsed");
    button.textContent = hidden ? "+" : "\u2212";
});
</script>
"""
"""The script that opens and closes a frame's source (``{js}`` of ``TEMPLATE``)."""

TEMPLATE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>500 Internal Server Error</title>
<style>{styles}</style>
</head>
<body>
<h1>500 Internal Server Error</h1>
<h2>{error}</h2>
<div class="traceback-container">
<p class="traceback-title">Traceback, innermost call first</p>
<div>{exc_html}</div>
</div>
{js}
</body>
</html>
"""
"""The whole page: ``{styles}``, ``{error}`` (escaped ``Type: message``), ``{exc_html}`` (the frames), ``{js}``."""

FRAME_TEMPLATE = """
<div class="frame">
<p class="frame-title"><span class="frame-filename">{frame_filename}</span>:{frame_lineno} in <b>{frame_name}</b>
<button type="button" class="collapse-btn" data-frame-id="{frame_filename}:{frame_lineno}">{collapse_button}</button></p>
<div id="{frame_filename}:{frame_lineno}" class="source-code {collapsed}">{code_context}</div>
</div>
"""
"""One frame: where it is, a button (``{collapse_button}``), and its source lines (``{code_context}``),
hidden when ``{collapsed}`` is ``"collapsed"``."""

LINE = """<p><span class="frame-line"><span class="lineno">{lineno}</span>{line}</span></p>
"""
"""A source line around the one that ran (``{lineno}``, escaped ``{line}``)."""

CENTER_LINE = """<p class="center-line"><span class="frame-line"><span class="lineno">{lineno}</span>{line}</span></p>
"""
"""The source line the frame was running, marked."""

_MAX_FRAMES = 64  # the innermost ones: a RecursionError's thousand frames would make a page nobody reads


def _source(filename: str, lineno: int, context_lines: int) -> str:
    first = max(1, lineno - context_lines // 2)
    rows: list[str] = []
    for number in range(first, first + context_lines):
        line = linecache.getline(filename, number)
        if not line:
            break
        template = CENTER_LINE if number == lineno else LINE
        rows.append(template.format(lineno=number, line=html.escape(line.rstrip("\n"))))
    return "".join(rows)


def html_traceback(exc: BaseException, context_lines: int = 7) -> str:
    """The page for ``exc``: its frames, innermost first (only that one open), then the plain traceback."""
    frames = traceback.extract_tb(exc.__traceback__)[-_MAX_FRAMES:]
    parts: list[str] = []
    for position, frame in enumerate(reversed(frames)):
        lineno = frame.lineno or 0
        collapsed = position > 0
        parts.append(
            FRAME_TEMPLATE.format(
                frame_filename=html.escape(frame.filename),
                frame_lineno=lineno,
                frame_name=html.escape(frame.name),
                collapse_button="+" if collapsed else "&minus;",
                collapsed="collapsed" if collapsed else "",
                code_context=_source(frame.filename, lineno, context_lines),
            )
        )
    plain = "".join(traceback.format_exception(exc))
    parts.append(f'<pre class="full-traceback">{html.escape(plain)}</pre>')
    error = html.escape(f"{type(exc).__name__}: {exc}")
    return TEMPLATE.format(styles=STYLES, error=error, exc_html="".join(parts), js=JS)
