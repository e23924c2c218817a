"""Jinja2 templates (the ``templates`` extra): ``Jinja2Templates`` and its ``TemplateResponse``.

Templates get the request as ``request`` and a ``url_for(name, **params)``
global. A template response tells test clients which template and context it
rendered (the ``http.response.debug`` extension), so tests can assert on them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from typing_extensions import override

from typedasgi.background import BackgroundTask
from typedasgi.datastructures import URL
from typedasgi.requests import Request
from typedasgi.responses import HTMLResponse
from typedasgi.types import Receive, Scope, Send, extension_send

if TYPE_CHECKING:  # the optional dependency, for annotations only; imported for real by Jinja2Templates
    import jinja2
    from jinja2.runtime import Context

__all__ = ["Jinja2Templates", "TemplatesConfigError"]

_TEMPLATES_MISSING = "Jinja2Templates needs jinja2: pip install 'typedasgi[templates]'"

PLAIN_TEXT_TEMPLATES: tuple[str, ...] = ("txt", "text", "md", "csv", "eml")
"""Template name endings rendered without HTML escaping (``Jinja2Templates(directory=...)``); all others are escaped."""

ContextProcessor = Callable[[Request[Any]], Mapping[str, object]]  # Any: requests of any state type
"""Adds values every template sees, computed from the request."""


def _url_for(context: Context, name: str, /, **path_params: Any) -> URL:  # params go to the route's convertors
    """The ``url_for`` template global: an absolute URL for a named route, via the template's request."""
    request: Request[Any] = context["request"]
    return request.url_for(name, **path_params)


class _TemplateResponse(HTMLResponse):
    """A rendered template that keeps ``template`` and ``context`` for tests."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, object],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template: jinja2.Template = template
        self.context: dict[str, object] = context
        super().__init__(template.render(context), status_code, headers, media_type, background)

    @override
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "http.response.debug" in scope.get("extensions", {}):
            await extension_send(send)(
                {"type": "http.response.debug", "info": {"template": self.template, "context": self.context}}
            )
        await super().__call__(scope, receive, send)


class TemplatesConfigError(ValueError, AssertionError):
    """Neither or both of ``directory`` and ``env``: a ``ValueError``, and the ``AssertionError`` Starlette raises."""


class Jinja2Templates:
    """Render Jinja2 templates from ``directory`` (or a ready ``env``) into HTML responses.

    A directory gets an environment with autoescaping on; a given ``env`` is used
    as it is, plus the ``url_for`` global unless it defines its own.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        env: jinja2.Environment | None = None,
        context_processors: list[ContextProcessor] | None = None,
    ) -> None:
        try:
            import jinja2
        except ImportError as exc:
            raise RuntimeError(_TEMPLATES_MISSING) from exc
        if (directory is None) == (env is None):
            raise TemplatesConfigError("either 'directory' or 'env' arguments must be passed (one, not both)")
        if env is None:
            assert directory is not None
            # Escaped unless the template is plain text by its name: Starlette escapes .html, .htm and .xml only,
            # which leaves .jinja/.j2 HTML pages open to injection; an email's .txt must not get &amp; either.
            autoescape = jinja2.select_autoescape(disabled_extensions=PLAIN_TEXT_TEMPLATES, default=True)
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=autoescape)
        template_globals = cast(MutableMapping[str, object], env.globals)  # values of any kind
        if "url_for" not in template_globals:  # an env's own url_for is kept
            template_globals["url_for"] = jinja2.pass_context(_url_for)
        self.env: jinja2.Environment = env
        self.context_processors: list[ContextProcessor] = list(context_processors or [])

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(  # noqa: N802  # the Starlette name
        self,
        request: Request[Any],  # any state type
        name: str,
        context: Mapping[str, object] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        """Render template ``name`` with ``request``, the context processors' values, then ``context``.

        ``context`` is copied, never modified; its keys win over the processors'.
        """
        values: dict[str, object] = {"request": request}
        for processor in self.context_processors:
            values.update(processor(request))
        if context is not None:
            values.update(context)
        template = self.get_template(name)
        return _TemplateResponse(template, values, status_code, headers, media_type, background)
