"""A partner generates a Python client from the committed openapi.json with openapi-python-client:
no warnings (every response and body is understood, the batch's items are typed episodes), and
the generated code creates an episode through its typed model and reads it back from a real
server (``paindiary serve``)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.servers import serve

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "paindiary_generated_client"


def _generate(folder: Path) -> str:
    config = folder / "generator.yaml"
    # No formatter run afterwards: the generated code is imported, never committed.
    config.write_text("post_hooks: []\n")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def _signed_in(base_url: str) -> str:
    email = f"generated-{uuid.uuid4().hex[:8]}@example.org"
    password = "generated client pass phrase"
    body = {"email": email, "password": password, "display_name": "Gen", "timezone": "UTC"}
    assert httpx.post(f"{base_url}/api/v1/auth/register", json=body).status_code == 202
    r = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def test_the_generated_client_has_no_warnings_and_round_trips_an_episode(tmp_path: Path) -> None:
    output = _generate(tmp_path)
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(tmp_path))
    try:
        client_module: Any = importlib.import_module(PACKAGE)
        create: Any = importlib.import_module(f"{PACKAGE}.api.episodes.create_episode")
        read: Any = importlib.import_module(f"{PACKAGE}.api.episodes.get_episode")
        models: Any = importlib.import_module(f"{PACKAGE}.models")
        batch_in: Any = importlib.import_module(f"{PACKAGE}.models.batch_in")
        # The batch's items are the typed episode model, not Any.
        assert "list[BatchEpisode]" in Path(batch_in.__file__).read_text()
        started = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
        body = models.EpisodeBody(
            started_at=started,
            duration_seconds=90,
            intensity=7,
            attack_count=3,
            triggers=[models.EpisodeBodyTriggersItem("chewing")],
        )
        with serve(tmp_path) as served:
            client = client_module.AuthenticatedClient(
                base_url=served.base_url, token=_signed_in(served.base_url)
            )
            with client as session:
                created = create.sync(pid="me", client=session, body=body)
                assert isinstance(created, models.EpisodeOut), created
                back = read.sync(pid="me", episode_id=created.id, client=session)
        assert isinstance(back, models.EpisodeOut), back
        assert back.id == created.id
        assert back.started_at == started
        assert (back.duration_seconds, back.intensity, back.attack_count) == (90, 7, 3)
        assert [t.value for t in back.triggers] == ["chewing"]
        assert back.version == 1
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]
