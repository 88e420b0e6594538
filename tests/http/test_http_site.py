"""Sites on disk and the server's path handling under fuzzing: nothing outside the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.apps.site import DirectorySite
from minternet.apps.web_server import WebServer
from minternet.http import Headers, Request
from minternet.loop import VirtualLoop


def make_tree(tmp: Path) -> Path:
    root = tmp / "www"
    (root / "docs").mkdir(parents=True)
    (root / "index.html").write_bytes(b"home")
    (root / "docs" / "a.txt").write_bytes(b"A")
    (tmp / "secret.txt").write_bytes(b"SECRET")
    (root / "leak.txt").symlink_to(tmp / "secret.txt")
    (root / "up").symlink_to(tmp)
    (root / "inside.txt").symlink_to(root / "docs" / "a.txt")
    return root


def get(server: WebServer, target: str) -> tuple[int, bytes]:
    reply = server.respond(Request("GET", target, Headers.of([("Host", "a")])))
    return reply.status, server.read_content(reply)


def test_directory_site_serves_files_and_refuses_symlinks_out(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    server = WebServer(DirectorySite(root), VirtualLoop(), lambda: 0.0)
    assert get(server, "/") == (200, b"home")
    assert get(server, "/docs/a.txt") == (200, b"A")
    assert get(server, "/inside.txt") == (200, b"A")  # a link that stays inside is fine
    assert get(server, "/leak.txt")[0] == 404
    assert get(server, "/up/secret.txt")[0] == 404
    assert get(server, "/docs")[0] == 301
    st_ = DirectorySite(root).stat(("index.html",))
    assert st_ is not None and st_.mtime == os.stat(root / "index.html").st_mtime


SEGMENTS = st.sampled_from(
    ["..", ".", "%2e%2e", "%2E%2e", "docs", "a.txt", "up", "leak.txt", "secret.txt", "",
     "%2f", "..%2f", "%00", "%ff", "index.html", "%", "%2", "caf\u00e9"]
)  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> WebServer:
    return WebServer(DirectorySite(make_tree(tmp_path_factory.mktemp("site"))), VirtualLoop(),
                     lambda: 0.0)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(segs=st.lists(SEGMENTS, max_size=6), slash=st.booleans())
def test_fuzzed_paths_never_leave_the_root(fuzz_server: WebServer, segs: list[str],
                                           slash: bool) -> None:  # fmt: skip
    target = "/" + "/".join(segs) + ("/" if slash else "")
    status, body = get(fuzz_server, target.encode("utf-8").decode("latin-1"))
    assert status in (200, 301, 400, 403, 404)
    assert b"SECRET" not in body
