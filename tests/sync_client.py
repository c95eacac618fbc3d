"""A minimal offline client: pulls the change feed into a local replica, like the app does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.diary import changes_url


@dataclass
class Replica:
    headers: dict[str, str]
    cursor: str | None = None
    live: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    deleted: set[tuple[str, str]] = field(default_factory=set)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def pull(self, client: TestClient, limit: int = 50) -> int:
        """Poll until the feed has nothing more; returns the number of entries applied."""
        applied = 0
        while True:
            params: dict[str, Any] = {"limit": limit}
            if self.cursor is not None:
                params["since"] = self.cursor
            r = client.get(changes_url(), params=params, headers=self.headers)
            assert r.status_code == 200, r.text
            page = r.json()
            assert page["next_cursor"]
            assert len(page["changes"]) <= limit
            for change in page["changes"]:
                key = (change["kind"], change["id"])
                self.seen.append(key)
                if change["deleted"]:
                    assert change["data"] is None
                    self.live.pop(key, None)
                    self.deleted.add(key)
                else:
                    self.live[key] = {**change["data"], "version": change["version"]}
                    self.deleted.discard(key)
            applied += len(page["changes"])
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return applied
