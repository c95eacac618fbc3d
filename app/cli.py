"""The ``paindiary`` command: serve, migrate, create-user."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence

from app.settings import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several worker processes: they share /metrics through files in this directory, so a
        # scrape sums every worker instead of showing whichever one answered (app/metrics.py).
        directory = tempfile.mkdtemp(prefix="paindiary-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        atexit.register(shutil.rmtree, directory, True)

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        # Let in-flight requests finish on SIGTERM before the workers exit.
        timeout_graceful_shutdown=args.graceful_timeout,
        log_level=args.log_level,
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from app.dbmigrate import upgrade

    upgrade(get_settings().database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    from app.errors import AppError
    from app.schemas.common import TimeZoneName
    from app.services.accounts import create_user_cli
    from app.services.context import AppContext

    if not args.password_stdin:
        print("error: pass the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 10:
        print("error: the password needs at least 10 characters", file=sys.stderr)
        return 2
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(TimeZoneName).validate_python(args.timezone)
    except ValidationError:
        print(f"error: unknown time zone {args.timezone!r}", file=sys.stderr)
        return 2
    ctx = AppContext.build(get_settings())
    try:
        with ctx.db.session(write=True) as session:
            user = create_user_cli(
                session,
                ctx,
                email=args.email,
                password=password,
                role=args.role,
                timezone=args.timezone,
            )
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        ctx.db.dispose()
    print(
        f"created {user.role} {user.email} id={user.id}"
        + (f" patient_id={user.patient_id}" if user.patient_id else "")
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paindiary", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--graceful-timeout", type=int, default=30)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=_migrate)

    create = sub.add_parser("create-user", help="create an account")
    create.add_argument("email")
    create.add_argument("--role", choices=["admin", "clinician", "patient"], required=True)
    create.add_argument("--password-stdin", action="store_true")
    create.add_argument("--timezone", default="UTC", help="patients only (IANA name)")
    create.set_defaults(func=_create_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
