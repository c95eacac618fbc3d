"""A partner integration in one file: sign in with OAuth2 client credentials, list the patients
who granted this client access, and download, per patient, the before/after trend of a treatment
series and the FHIR R4 bundle of the record.

    python examples/partner_client.py --base-url http://127.0.0.1:8000 \\
        --client-id=<id> --client-secret=<secret> [--out partner-downloads]

(or set PAINDIARY_BASE_URL, PAINDIARY_CLIENT_ID and PAINDIARY_CLIENT_SECRET). Write the secret as
``--client-secret=<secret>``: a generated secret may begin with "-", which argparse would
otherwise take for an option. Needs httpx only.
An admin registers the client with the scopes diary:read (patients, series) and reports:read
(trends, exports); each patient grants it access (POST /api/v1/patients/me/grants with
{"client_id": ..., "access": "read"}). tests/test_partner_client.py keeps this file working.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx

API = "/api/v1"
SCOPES = "diary:read reports:read"
MAX_WAIT_SECONDS = 60  # longest Retry-After this script sits out before giving up


class ApiError(Exception):
    """An error answer of the API: RFC 9457 problem+json with a title and a detail."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        self.status = response.status_code
        title = problem.get("title", response.reason_phrase)
        super().__init__(f"{self.status} {title}: {problem.get('detail', response.text[:200])}")


class Partner:
    """An API session: a client-credentials token, fetched again when it expires, and patience
    for rate limits and outages (429/503 carry Retry-After)."""

    def __init__(self, http: httpx.Client, client_id: str, client_secret: str) -> None:
        self.http = http
        # RFC 6749 §2.3.1: HTTP Basic with both parts form-url-encoded first.
        self.auth = httpx.BasicAuth(quote_plus(client_id), quote_plus(client_secret))
        self.token: str | None = None

    def sign_in(self) -> None:
        response = self.http.post(
            f"{API}/auth/token",
            data={"grant_type": "client_credentials", "scope": SCOPES},
            auth=self.auth,
        )
        if response.status_code != 200:
            raise ApiError(response)
        self.token = response.json()["access_token"]

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET with the token; one fresh token on 401, waits out Retry-After on 429/503."""
        for attempt in range(4):
            if self.token is None:
                self.sign_in()
            headers = {"Authorization": f"Bearer {self.token}"}
            response = self.http.get(f"{API}{path}", params=params, headers=headers)
            if response.status_code == 401 and attempt == 0:
                self.token = None  # expired (they last minutes): sign in again, once
                continue
            wait = response.headers.get("Retry-After", "")
            if response.status_code not in (429, 503) or not wait.isdigit():
                break
            if int(wait) > MAX_WAIT_SECONDS:
                break
            time.sleep(int(wait))
        if response.is_error:
            raise ApiError(response)
        return response

    def paged(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following next_cursor."""
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = self.get(path, **params).json()
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]


def first_trend(partner: Partner, pid: str) -> tuple[dict[str, Any], httpx.Response] | None:
    """The newest series with a trend, and the trend; 409 means no completed session yet."""
    for series in partner.paged(f"/patients/{pid}/series"):
        try:
            return series, partner.get(f"/patients/{pid}/series/{series['id']}/trend")
        except ApiError as error:
            if error.status != 409:
                raise
    return None


def download(partner: Partner, out: Path) -> int:
    """Saves <out>/<patient id>/trend-<series id>.json and fhir-bundle.json per patient;
    returns how many patients granted access."""
    count = 0
    for patient in partner.paged("/patients"):
        count += 1
        folder = out / patient["id"]
        folder.mkdir(parents=True, exist_ok=True)
        line = f"{patient['display_name']} ({patient['id']}):"
        found = first_trend(partner, patient["id"])
        if found is None:
            line += " no series with a completed session yet;"
        else:
            series, response = found
            (folder / f"trend-{series['id']}.json").write_bytes(response.content)
            trend = response.json()
            line += (
                f" trend of {series['name']!r} ({trend['sessions_count']} sessions,"
                f" responder: {trend['responder']});"
            )
        response = partner.get(f"/patients/{patient['id']}/export/fhir")
        (folder / "fhir-bundle.json").write_bytes(response.content)
        entries = len(response.json().get("entry", []))
        print(f"{line} FHIR bundle with {entries} entries -> {folder}")
    return count


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Download trends and FHIR bundles.")
    parser.add_argument("--base-url", default=env("PAINDIARY_BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--client-id", default=env("PAINDIARY_CLIENT_ID"))
    parser.add_argument("--client-secret", default=env("PAINDIARY_CLIENT_SECRET"))
    parser.add_argument("--out", type=Path, default=Path("partner-downloads"))
    args = parser.parse_args(argv)
    if not args.client_id or not args.client_secret:
        parser.error("give --client-id and --client-secret (or PAINDIARY_CLIENT_ID/_SECRET)")
    return args


def main(argv: Sequence[str] | None = None, client: httpx.Client | None = None) -> int:
    """``client`` lets a test pass its own (e.g. one bound to the app in-process)."""
    args = parse_args(argv)
    http = client or httpx.Client(base_url=args.base_url, timeout=60)
    try:
        count = download(Partner(http, args.client_id, args.client_secret), args.out)
    except (ApiError, httpx.HTTPError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if client is None:
            http.close()
    print(f"{count} patient(s) granted this client access; files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
