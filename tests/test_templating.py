"""Jinja2Templates: rendering, url_for, context processors, the debug extension."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask
from typedasgi.requests import Request
from typedasgi.responses import Response
from typedasgi.routing import Route
from typedasgi.templating import Jinja2Templates
from typedasgi.testclient import TestClient

from tests.support import Extensions, call_app, http_scope


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(
        "<p>{{ request.url.path }}|{{ name }}|{{ url_for('item', id=3) }}|{{ evil }}|{{ shared }}</p>"
    )
    (tmp_path / "plain.html").write_text("plain")
    return tmp_path


def make_app(templates: Jinja2Templates, context: Mapping[str, object] | None = None, **kwargs: Any) -> TypedASGI:
    async def index(request: Request) -> Response:
        return templates.TemplateResponse(request, "index.html", context, **kwargs)

    async def item(request: Request) -> Response:
        return templates.TemplateResponse(request, "plain.html")

    return TypedASGI(routes=[Route("/", index, name="index"), Route("/items/{id:int}", item, name="item")])


def test_renders_with_request_url_for_and_autoescape(templates_dir: Path) -> None:
    templates = Jinja2Templates(directory=templates_dir)
    app = make_app(templates, {"name": "Ada", "evil": "<script>", "shared": "-"})
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<p>/|Ada|http://testserver/items/3|&lt;script&gt;|-</p>"
    template = getattr(response, "template")
    context = getattr(response, "context")
    assert template.name == "index.html"
    assert context["name"] == "Ada"
    assert isinstance(context["request"], Request)


def test_status_headers_media_type_and_background(templates_dir: Path) -> None:
    ran: list[str] = []
    templates = Jinja2Templates(directory=str(templates_dir))
    app = make_app(
        templates,
        status_code=201,
        headers={"x-extra": "1"},
        media_type="application/xhtml+xml",
        background=BackgroundTask(ran.append, "done"),
    )
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 201
    assert response.headers["x-extra"] == "1"
    assert response.headers["content-type"].startswith("application/xhtml+xml")
    assert ran == ["done"]


def test_context_processors_and_explicit_context_wins(templates_dir: Path) -> None:
    def shared(request: Request) -> dict[str, Any]:
        return {"shared": f"from processor for {request.url.path}", "name": "processor"}

    templates = Jinja2Templates(directory=templates_dir, context_processors=[shared])
    given = {"name": "explicit"}
    with TestClient(make_app(templates, given)) as client:
        response = client.get("/")
    assert "|explicit|" in response.text
    assert "from processor for /" in response.text
    assert given == {"name": "explicit"}  # the caller's dict is not modified


def test_a_ready_environment(templates_dir: Path) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"index.html": "{{ url_for('index') }}!"}))
    templates = Jinja2Templates(env=env)
    assert templates.env is env
    assert "url_for" in env.globals
    with TestClient(make_app(templates)) as client:
        assert client.get("/").text == "http://testserver/!"
    custom = jinja2.Environment(loader=jinja2.DictLoader({"index.html": "{{ url_for('x') }}"}))
    custom.globals["url_for"] = lambda name: "mine:" + name
    with TestClient(make_app(Jinja2Templates(env=custom))) as client:
        assert client.get("/").text == "mine:x"  # an env's own url_for is kept


def test_several_directories_and_get_template(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "one.html").write_text("one")
    (tmp_path / "b" / "two.html").write_text("two")
    templates = Jinja2Templates(directory=[tmp_path / "a", str(tmp_path / "b")])
    assert templates.get_template("one.html").render() == "one"
    assert templates.get_template("two.html").render() == "two"
    with pytest.raises(jinja2.TemplateNotFound):
        templates.get_template("three.html")


def test_directory_xor_env(templates_dir: Path) -> None:
    with pytest.raises(ValueError, match="either"):
        Jinja2Templates()
    with pytest.raises(ValueError, match="either"):
        Jinja2Templates(directory=templates_dir, env=jinja2.Environment())
    with pytest.raises(AssertionError, match="either 'directory' or 'env' arguments must be passed"):
        Jinja2Templates()  # Starlette's exception type too


def test_missing_jinja2_names_the_extra(templates_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(RuntimeError, match=r"pip install 'typedasgi\[templates\]'"):
        Jinja2Templates(directory=templates_dir)


def test_debug_message_only_when_the_extension_is_offered(templates_dir: Path) -> None:
    templates = Jinja2Templates(directory=templates_dir)
    scope = http_scope(path="/plain", server=("testserver", 80), extensions={})
    response = templates.TemplateResponse(Request(scope), "plain.html")
    assert response.body == b"plain"

    def sent_types(extensions: Extensions | None) -> list[str]:
        if extensions is None:
            scope.pop("extensions", None)
        else:
            scope["extensions"] = extensions
        return [message["type"] for message in call_app(response, scope)]

    assert sent_types({}) == ["http.response.start", "http.response.body"]
    assert sent_types(None) == ["http.response.start", "http.response.body"]
    assert sent_types({"http.response.debug": {}}) == [
        "http.response.debug",
        "http.response.start",
        "http.response.body",
    ]


def test_plain_text_templates_are_not_html_escaped_and_the_rest_are(tmp_path: Path) -> None:
    # Escaping everything wrote O&#39;Brien &amp; Co into a .txt email; Starlette escapes .html/.htm/.xml only,
    # which leaves a .jinja HTML page open to injection: both are escaped here, plain text is not.
    for name in ("email.txt", "page.jinja", "page.html"):
        (tmp_path / name).write_text("{{ who }}")
    templates = Jinja2Templates(directory=tmp_path)
    rendered = {name: templates.get_template(name).render(who="O'Brien & Co <x>") for name in ("email.txt", "page.jinja", "page.html")}
    assert rendered == {
        "email.txt": "O'Brien & Co <x>",
        "page.jinja": "O&#39;Brien &amp; Co &lt;x&gt;",
        "page.html": "O&#39;Brien &amp; Co &lt;x&gt;",
    }
