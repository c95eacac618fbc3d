"""Checking the audit trail: every chain against the audit key, its seal and the checkpoints
kept outside the database; sealing chains from before the key; writing checkpoints.

What each part catches (the README says the same for operators):

- The key: an entry changed in the database, and its chain recomputed, no longer verifies - the
  HMAC needs the key, which the database never holds.
- Seals: entries written before the key existed carry plain SHA-256 hashes anyone could
  recompute. ``seal_legacy`` (run by ``paindiary migrate``) records each such chain's head with
  an HMAC; unkeyed entries are accepted only up to a seal, or before a keyed entry (whose hash
  covers theirs). Unkeyed entries beyond both are reported, so an attacker cannot turn a chain
  back into an unkeyed one and recompute it.
- Checkpoints: deleting the newest entries (and lowering ``patients.audit_seq``), or a whole
  chain, leaves a chain that verifies. ``append_checkpoints`` writes every chain's head (erased
  patients' included) to a file outside the database; ``verify`` with those checkpoints reports
  a chain shorter than, or different from, its checkpoint, and a chain that vanished.
"""

from __future__ import annotations

import hmac
import itertools
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping, func, select
from sqlalchemy.orm import Session

from app.models import AuditEntry, AuditSeal, Patient
from app.services.care.audit import GENESIS_HASH, HASHED_FIELDS, chain_hash, legacy_hash
from app.trends.days import utcnow

UNSEALED = "unsealed"
_COLUMNS = [getattr(AuditEntry, name) for name in (*HASHED_FIELDS, "prev_hash", "hash")]


@dataclass(frozen=True)
class Finding:
    patient_id: uuid.UUID
    seq: int
    reason: str
    kind: str = "broken"

    def __str__(self) -> str:
        return f"patient {self.patient_id} seq {self.seq}: {self.reason}"


@dataclass(frozen=True)
class Head:
    """A chain's newest entry: what a checkpoint or a seal records."""

    patient_id: uuid.UUID
    seq: int
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    patient_id: uuid.UUID
    seq: int
    hash: str
    at: str


@dataclass
class Verification:
    entries: int = 0  # entries that verified
    chains: int = 0
    unkeyed: int = 0  # of the entries, those written before the audit key (sealed or covered)
    findings: list[Finding] = field(default_factory=list)
    heads: dict[uuid.UUID, Head] = field(default_factory=dict)  # chains that verified whole

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def broken_patient(self) -> uuid.UUID | None:
        return self.findings[0].patient_id if self.findings else None

    @property
    def broken_seq(self) -> int | None:
        return self.findings[0].seq if self.findings else None

    @property
    def reason(self) -> str | None:
        return self.findings[0].reason if self.findings else None


def seal_mac(key: bytes, patient_id: uuid.UUID, seq: int, hash_: str) -> str:
    message = f"paindiary-audit-seal:{patient_id}:{seq}:{hash_}".encode()
    return hmac.digest(key, message, "sha256").hex()


def verify(
    session: Session, key: bytes, checkpoints: Mapping[uuid.UUID, Checkpoint] | None = None
) -> Verification:
    """Walk every chain (patients in id order, entries streamed); report every broken chain,
    each at its first broken link, and chains that are shorter than their seal, their
    ``patients.audit_seq`` or their checkpoint, or gone altogether."""
    result = Verification()
    # Chain lengths first: entries appended while we walk only make a chain longer than this.
    lengths: dict[uuid.UUID, int] = {
        row.id: row.audit_seq
        for row in session.execute(
            select(Patient.id, Patient.audit_seq).where(Patient.audit_seq > 0)
        )
    }
    seals = _valid_seals(session, key, result)
    pending = dict(checkpoints or {})
    rows = session.execute(
        select(*_COLUMNS).order_by(AuditEntry.patient_id, AuditEntry.seq),
        execution_options={"yield_per": 1000},  # streamed: memory stays flat however long
    )
    try:
        for patient_id, chain in itertools.groupby(rows.mappings(), lambda r: r["patient_id"]):
            _check_chain(
                result,
                patient_id,
                chain,
                key,
                seal=seals.pop(patient_id, None),
                length=lengths.pop(patient_id, 0),
                checkpoint=pending.pop(patient_id, None),
            )
    finally:
        rows.close()  # a server-side cursor on PostgreSQL
    for patient_id in sorted(lengths):  # a chain whose every entry is gone
        result.findings.append(Finding(patient_id, 1, "entries missing"))
    for patient_id, seal in sorted(seals.items()):
        result.findings.append(
            Finding(patient_id, 1, f"vanished: sealed at seq {seal.seq}, no entries left")
        )
    for patient_id, checkpoint in sorted(pending.items()):
        result.findings.append(
            Finding(
                patient_id,
                1,
                f"vanished: checkpointed at seq {checkpoint.seq} on {checkpoint.at}, "
                "no entries left",
            )
        )
    return result


def _valid_seals(session: Session, key: bytes, result: Verification) -> dict[uuid.UUID, Head]:
    """The highest seal of each chain whose MAC verifies; forged ones are findings."""
    seals: dict[uuid.UUID, Head] = {}
    rows = session.execute(
        select(AuditSeal.patient_id, AuditSeal.seq, AuditSeal.hash, AuditSeal.mac).order_by(
            AuditSeal.patient_id, AuditSeal.seq
        )
    )
    for row in rows:
        if not hmac.compare_digest(row.mac, seal_mac(key, row.patient_id, row.seq, row.hash)):
            result.findings.append(
                Finding(row.patient_id, row.seq, "seal does not verify under the audit key")
            )
            continue
        seals[row.patient_id] = Head(row.patient_id, row.seq, row.hash)
    return seals


def _check_chain(
    result: Verification,
    patient_id: uuid.UUID,
    chain: Iterable[RowMapping],
    key: bytes,
    *,
    seal: Head | None,
    length: int,
    checkpoint: Checkpoint | None,
) -> None:
    result.chains += 1
    expected, prev_hash = 1, GENESIS_HASH
    keyed = False
    last_unkeyed = 0
    count = unkeyed = 0

    def broken(seq: int, reason: str) -> None:
        result.entries += count
        result.unkeyed += unkeyed
        result.findings.append(Finding(patient_id, seq, reason))

    for row in chain:
        seq = row["seq"]
        if seq != expected:
            return broken(expected, "entry missing")
        if row["prev_hash"] != prev_hash:
            return broken(seq, "prev_hash does not match")
        if row["hash"] == chain_hash(key, prev_hash, row):
            keyed = True
        elif not keyed and row["hash"] == legacy_hash(prev_hash, row):
            last_unkeyed = seq  # from before the key; pinned below, or reported
            unkeyed += 1
        else:
            return broken(seq, "entry altered (its hash does not verify under the audit key)")
        if seal is not None and seal.seq == seq and seal.hash != row["hash"]:
            return broken(seq, "differs from its seal")
        if checkpoint is not None and checkpoint.seq == seq and checkpoint.hash != row["hash"]:
            return broken(seq, f"differs from its checkpoint of {checkpoint.at}")
        prev_hash, expected = row["hash"], seq + 1
        count += 1
    last = expected - 1
    result.entries += count
    result.unkeyed += unkeyed
    findings: list[Finding] = []
    if last_unkeyed and not keyed and (seal is None or seal.seq < last_unkeyed):
        first = seal.seq + 1 if seal is not None else 1
        findings.append(
            Finding(
                patient_id,
                first,
                f"entries {first}..{last_unkeyed} were written without the audit key and are "
                "not sealed (paindiary audit seal)",
                kind=UNSEALED,
            )
        )
    if seal is not None and seal.seq > last:
        findings.append(Finding(patient_id, last + 1, f"shorter than its seal (seq {seal.seq})"))
    if length > last:
        findings.append(Finding(patient_id, last + 1, "entries missing at the end"))
    if checkpoint is not None and checkpoint.seq > last:
        findings.append(
            Finding(
                patient_id,
                last + 1,
                f"shorter than its checkpoint of {checkpoint.at} (seq {checkpoint.seq})",
            )
        )
    result.findings.extend(findings)
    if not findings or all(f.kind == UNSEALED for f in findings):
        result.heads[patient_id] = Head(patient_id, last, prev_hash)


# --- sealing chains written before the key -----------------------------------------------------


@dataclass
class SealReport:
    sealed: int = 0
    entries: int = 0  # unkeyed entries the new seals cover
    refused: list[Finding] = field(default_factory=list)


def _heads(session: Session) -> Iterator[RowMapping]:
    """The newest entry of every chain, erased patients' included."""
    newest = (
        select(AuditEntry.patient_id, func.max(AuditEntry.seq).label("seq"))
        .group_by(AuditEntry.patient_id)
        .subquery()
    )
    query = select(*_COLUMNS).join(
        newest,
        (AuditEntry.patient_id == newest.c.patient_id) & (AuditEntry.seq == newest.c.seq),
    )
    yield from session.execute(query).mappings()


def seal_legacy(read: Session, write: Session, key: bytes) -> SealReport:
    """Seal every chain whose newest entry was written before the audit key, after checking
    the chain from its start; a chain that does not check out is left unsealed and reported.

    Cheap when there is nothing to seal (the usual case on every ``paindiary migrate``): only
    the chain heads are read. Reads through ``read``; the seals are committed through ``write``
    in one short transaction.
    """
    report = SealReport()
    sealed = _valid_seals(read, key, Verification())
    candidates = [
        row["patient_id"]
        for row in _heads(read)
        if row["hash"] != chain_hash(key, row["prev_hash"], row)
        and sealed.get(row["patient_id"], Head(row["patient_id"], 0, "")).seq < row["seq"]
    ]
    seals: list[AuditSeal] = []
    now = utcnow()
    for patient_id in sorted(candidates):
        length = read.scalar(select(Patient.audit_seq).where(Patient.id == patient_id)) or 0
        chain = read.execute(
            select(*_COLUMNS).where(AuditEntry.patient_id == patient_id).order_by(AuditEntry.seq)
        ).mappings()
        checked = Verification()
        _check_chain(
            checked,
            patient_id,
            chain,
            key,
            seal=sealed.get(patient_id),
            length=length,
            checkpoint=None,
        )
        head = checked.heads.get(patient_id)
        if head is None:
            report.refused.extend(f for f in checked.findings if f.kind != UNSEALED)
            continue
        seals.append(
            AuditSeal(
                patient_id=patient_id,
                seq=head.seq,
                hash=head.hash,
                sealed_at=now,
                mac=seal_mac(key, patient_id, head.seq, head.hash),
            )
        )
        report.sealed += 1
        report.entries += checked.unkeyed
    read.rollback()
    if seals:
        write.add_all(seals)
        write.commit()
    return report


# --- checkpoints: chain heads in an append-only file outside the database ----------------------


class CheckpointFileError(ValueError):
    pass


def read_checkpoints(path: Path) -> dict[uuid.UUID, Checkpoint]:
    """Each chain's latest checkpoint (the highest sequence recorded for it). A missing file
    holds none; a last line cut short by a crash during an append is ignored."""
    if not path.exists():
        return {}
    found: dict[uuid.UUID, Checkpoint] = {}
    lines = path.read_bytes().split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data: dict[str, Any] = json.loads(line)
            checkpoint = Checkpoint(
                uuid.UUID(str(data["patient_id"])),
                int(data["seq"]),
                str(data["hash"]),
                str(data["at"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            if number == len(lines):  # no newline after it: a torn append
                continue
            raise CheckpointFileError(f"{path}:{number}: not a checkpoint line") from exc
        current = found.get(checkpoint.patient_id)
        if current is None or checkpoint.seq >= current.seq:
            found[checkpoint.patient_id] = checkpoint
    return found


def append_checkpoints(
    path: Path,
    heads: Iterable[Head],
    previous: Mapping[uuid.UUID, Checkpoint],
    at: datetime | None = None,
) -> int:
    """Append the heads that moved since their latest checkpoint (a chain that did not change
    needs no new line), one JSON object per line, and fsync. Returns the lines written."""
    stamp = (at or utcnow()).isoformat().replace("+00:00", "Z")
    lines = [
        json.dumps(
            {"at": stamp, "patient_id": str(h.patient_id), "seq": h.seq, "hash": h.hash},
            sort_keys=True,
        )
        + "\n"
        for h in heads
        if (old := previous.get(h.patient_id)) is None or (old.seq, old.hash) != (h.seq, h.hash)
    ]
    if not lines:
        return 0
    created = not path.exists()
    torn = not created and path.stat().st_size > 0 and not _ends_with_newline(path)
    payload = ("\n" if torn else "") + "".join(lines)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(payload.encode())
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:  # the new directory entry must survive a crash too
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return len(lines)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
