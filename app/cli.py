"""The ``paindiary`` command: serve, migrate, create-user, audit (verify, checkpoint, seal),
purge-tombstones, refresh-outcomes, seed-demo."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import get_settings

if TYPE_CHECKING:
    import uuid

    from app.services.care.audit_integrity import Checkpoint, Verification


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several worker processes: they share /metrics through files in this directory, so a
        # scrape sums every worker instead of showing whichever one answered (app/metrics.py).
        directory = tempfile.mkdtemp(prefix="paindiary-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        atexit.register(shutil.rmtree, directory, True)

    settings = get_settings()
    problem = settings.mail_problem()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from app.services.mail.sender import Mailer

    # Where codes and notices go, so a developer knows where to find them (make run).
    print(f"paindiary: mail goes to {Mailer(settings).describe()}", file=sys.stderr, flush=True)
    proxies = ", ".join(settings.trusted_proxies) or "none"
    print(f"paindiary: X-Forwarded-For trusted from: {proxies}", file=sys.stderr, flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # The app resolves X-Forwarded-For itself, from PAINDIARY_TRUSTED_PROXIES only
        # (uvicorn's own default would trust 127.0.0.1, i.e. any local proxy passing it on).
        proxy_headers=False,
        # Let in-flight requests finish on SIGTERM before the workers exit.
        timeout_graceful_shutdown=args.graceful_timeout,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from app.dbmigrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    if args.revision == "head":
        # Chains from before the audit key get their seal straight away (a no-op after that).
        _seal(report_nothing=True)
    return 0


def _seal(*, report_nothing: bool = False) -> int:
    from app.db import Database
    from app.services.care.audit_integrity import seal_legacy

    settings = get_settings()
    db = Database(settings.database_url, pool_size=1)
    try:
        with db.session() as read, db.session(write=True) as write:
            report = seal_legacy(read, write, settings.audit_signing_key())
    finally:
        db.dispose()
    if report.sealed or not report_nothing:
        print(
            f"sealed {report.sealed} audit chains ({report.entries} entries written before "
            "the audit key)"
        )
    for finding in report.refused:
        print(f"warning: not sealed: {finding}", file=sys.stderr)
    if report.refused:
        print("warning: run paindiary audit verify and investigate", file=sys.stderr)
    return 1 if report.refused else 0


def _create_user(args: argparse.Namespace) -> int:
    from app.errors import AppError
    from app.schemas.common import TimeZoneName
    from app.services.context import AppContext
    from app.services.identity.accounts import create_user_cli

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


def _audit_verify(args: argparse.Namespace) -> int:
    result = _run_verify(args.checkpoints)
    if result is None:
        return 2
    verification, _ = result
    if not verification.ok:
        return _print_findings(verification)
    line = f"ok {verification.entries} entries in {_count(verification.chains, 'chain')}"
    if verification.unkeyed:
        line += f" ({verification.unkeyed} from before the audit key, sealed)"
    if args.checkpoints is not None:
        line += f"; none shorter than or different from its checkpoint in {args.checkpoints}"
    print(line)
    return 0


def _audit_checkpoint(args: argparse.Namespace) -> int:
    from app.services.care.audit_integrity import append_checkpoints

    result = _run_verify(args.file)
    if result is None:
        return 2
    verification, previous = result
    if not verification.ok:
        code = _print_findings(verification)
        print(f"no checkpoint written to {args.file}")
        return code
    written = append_checkpoints(args.file, verification.heads.values(), previous)
    print(
        f"checkpoint: {written} of {verification.chains} chain heads appended to {args.file} "
        f"(the others are unchanged since their last checkpoint; "
        f"{verification.entries} entries verified)"
    )
    return 0


def _run_verify(
    checkpoint_file: Path | None,
) -> tuple[Verification, dict[uuid.UUID, Checkpoint]] | None:
    from app.db import Database
    from app.services.care.audit_integrity import CheckpointFileError, read_checkpoints, verify

    try:
        checkpoints = read_checkpoints(checkpoint_file) if checkpoint_file else {}
    except (CheckpointFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    settings = get_settings()
    db = Database(settings.database_url, pool_size=1)
    try:
        with db.session() as session:
            return verify(session, settings.audit_signing_key(), checkpoints), checkpoints
    finally:
        db.dispose()


def _print_findings(verification: Verification) -> int:
    for finding in verification.findings:
        print(f"broken: {finding}")
    print(
        f"{_count(len(verification.findings), 'finding')} ({verification.entries} entries "
        f"of {_count(verification.chains, 'chain')} verified before or besides them)"
    )
    return 1


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _audit_seal(_args: argparse.Namespace) -> int:
    return _seal()


def _purge_tombstones(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from app.services.context import AppContext
    from app.services.sync.purge import purge

    if args.days < 180 or args.key_days < 30:
        print("error: tombstones are kept 180 days and keys 30 days at least", file=sys.stderr)
        return 2
    ctx = AppContext.build(get_settings())
    try:
        report = purge(
            ctx.db, tombstone_age=timedelta(days=args.days), key_age=timedelta(days=args.key_days)
        )
    finally:
        ctx.db.dispose()
    print(
        f"purged {report.tombstones} tombstones and {report.keys} idempotency keys"
        f" of {report.patients} patients"
    )
    return 0


def _refresh_outcomes(_args: argparse.Namespace) -> int:
    from app.services.context import AppContext
    from app.services.outcomes.ready import refresh_all

    ctx = AppContext.build(get_settings())
    try:
        count = refresh_all(ctx.db)
    finally:
        ctx.db.dispose()
    print(f"brought the outcomes of {_count(count, 'patient')} up to date")
    return 0


def _seed_demo(_args: argparse.Namespace) -> int:
    from app.dbmigrate import upgrade
    from app.services.context import AppContext
    from app.services.demo.seed import instructions, seed_demo

    settings = get_settings()
    if settings.env == "production":
        print("error: seed-demo adds demo accounts; it does not run in production", file=sys.stderr)
        return 2
    upgrade(settings.database_url)  # a fresh database works straight away
    ctx = AppContext.build(settings)
    try:
        demo = seed_demo(ctx)
    finally:
        ctx.db.dispose()
    print(instructions(demo))
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
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log every request (--no-access-log: e.g. behind a proxy that logs, or in benchmarks)",
    )
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

    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="check every patient's chain under the audit key (and against the checkpoints); "
        "exit 1 naming each broken, shortened or vanished chain",
    )
    verify.add_argument(
        "--checkpoints",
        type=Path,
        metavar="FILE",
        help="a file written by 'audit checkpoint': also report every chain shorter than, or "
        "different from, its last checkpoint, and chains that vanished",
    )
    verify.set_defaults(func=_audit_verify)
    checkpoint = audit_sub.add_parser(
        "checkpoint",
        help="verify, then append the head of every chain that moved (erased patients' "
        "included) to an append-only file kept outside the database; exit 1 writing nothing "
        "if verification fails",
    )
    checkpoint.add_argument("--file", type=Path, required=True, metavar="FILE")
    checkpoint.set_defaults(func=_audit_checkpoint)
    seal = audit_sub.add_parser(
        "seal",
        help="seal the chains written before the audit key existed (paindiary migrate does "
        "this); exit 1 naming chains that do not check out and stay unsealed",
    )
    seal.set_defaults(func=_audit_seal)

    purge = sub.add_parser(
        "purge-tombstones",
        help="delete tombstones and idempotency keys past their retention (run daily)",
    )
    purge.add_argument("--days", type=int, default=180, help="tombstone age (at least 180)")
    purge.add_argument("--key-days", type=int, default=30, help="key age (at least 30)")
    purge.set_defaults(func=_purge_tombstones)

    refresh = sub.add_parser(
        "refresh-outcomes",
        help="recompute the stored outcomes that changed or whose patient's day is over "
        "(readers do it anyway before they answer; run it just after midnight, e.g. hourly, so "
        "that the first clinician of the day does not wait for it)",
    )
    refresh.set_defaults(func=_refresh_outcomes)

    demo = sub.add_parser(
        "seed-demo",
        help="migrate, then create a demo patient with six months of diary, a ketamine series "
        "and a granted clinician; prints their (random) passwords and the report URL",
    )
    demo.set_defaults(func=_seed_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
