#!/usr/bin/env python3
"""Offline verifier for Activity Log checkpoints, receipts and Merkle proofs.

Everything is checked locally against the log's public verifier key; nothing
is fetched from the network and nothing the server says is trusted unless it
is covered by the log's signature.

Formats
-------
* Verifier key (c2sp.org/signed-note), one line::

      <name>+<key id, 8 lowercase hex digits>+<base64(0x01 || Ed25519 public key)>

  where key id = SHA-256(name || "\\n" || 0x01 || public key)[:4], big-endian.
* Signed note: the text, an empty line, then signature lines
  ``— <name> <base64(key id || Ed25519 signature)>`` (U+2014 EM DASH).
* Checkpoint (c2sp.org/tlog-checkpoint): a signed note whose text is exactly
  three lines: origin (e.g. ``activity-log.local/acme``, or
  ``activity-log.local/acme/archived`` for a retention boundary), tree size in
  decimal, base64 root hash.
* Merkle trees, inclusion and consistency proofs: RFC 9162 section 2.1.
* Export manifests (``activity-log-manifest/3``, JSON Lines): a header
  ``{"format", "tenant", "exported", "checkpoint", ...}``, one line per
  exported event ``{"seq", "hash", "leaf", "gap", ...}`` and a closing
  ``{"end": true, "gap"}``. The lines' leaves and the gaps' nodes form a
  multi-leaf inclusion proof: RFC 9162's recursion over the tree, where every
  range holding no exported leaf that is a complete subtree is one node of the
  proof, left to right; each line's ``gap`` holds the nodes between the
  previous exported leaf and its own, the end line those after the last.

The tree size and root hash are always taken from the signed note text. The
JSON fields ``origin``, ``tree_size`` and ``root_hash`` beside the note are
unsigned mirrors; if present they must agree with the note, or verification
fails.

Usage
-----
::

    verify.py checkpoint  --key log.key checkpoint.note
    verify.py inclusion   --key log.key proof.json
    verify.py consistency --key log.key --old receipt.json consistency.json
    verify.py receipt     --key log.key receipt.json
    verify.py manifest    --key log.key export.manifest.jsonl

``--old`` accepts a receipt JSON (from ``POST /api/v1/events``), any JSON
object with a ``checkpoint`` member, a checkpoint JSON object, or a bare
signed note. Every subcommand also takes ``--origin ORIGIN`` to require a
particular log origin.

Inputs come from:

* ``POST /api/v1/events`` -> receipt JSON
  ``{"receipt": {"checkpoint": {...}, "leaf_indexes": [...]}, ...}``
* ``GET /api/v1/events/{id}/proof?tree_size=N`` -> inclusion proof JSON
  ``{"leaf_index", "tree_size", "leaf_hash", "leaf", "proof", "checkpoint"}``
* ``GET /api/v1/integrity/consistency?first=M&second=N`` -> consistency JSON
  ``{"first", "second", "proof", "checkpoint"}``
* ``GET /api/v1/events/export?format=manifest&...`` -> export manifest
  (the ``manifest`` command proves its events in the signed tree; comparing
  the CSV's rows with the leaves is ``auditlog verify-export``'s part)

On success a single line starting with ``ok`` is printed and the exit status
is 0. On failure ``FAILED: <reason>`` is printed to stderr and the exit status
is 1.

Requires Python 3.11+ and the ``cryptography`` package. The functions below
can also be imported and used directly.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HASH_SIZE = 32
ED25519_SIGNATURE_TYPE = 0x01
ED25519_PUBLIC_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
KEY_ID_SIZE = 4
# c2sp.org/signed-note: verifiers should cap the number of signatures but
# must accept at least 16.
MAX_SIGNATURES = 100
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, space
EMPTY_TREE_ROOT = hashlib.sha256(b"").digest()

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID = re.compile(r"[0-9a-f]{8}")


class VerificationError(Exception):
    """Raised when an input is malformed or does not verify."""


# ---------------------------------------------------------------------------
# RFC 9162 Merkle tree hashing and proof verification
# ---------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 2.1.1: the hash of a leaf is SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 2.1.1: an interior node is SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(
    leaf_index: int,
    tree_size: int,
    leaf: bytes,
    proof: Sequence[bytes],
    root: bytes,
) -> bool:
    """Verify an inclusion proof as in RFC 9162 2.1.3.2.

    ``leaf`` is the leaf *hash*; ``proof`` is the inclusion path.
    """
    # Step 1: the leaf index must be inside the tree.
    if leaf_index < 0 or leaf_index >= tree_size:
        return False
    # Step 2: fn = leaf_index, sn = tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # Step 3: r = hash.
    r = leaf
    # Step 4: for each value p in the inclusion path.
    for p in proof:
        # 4a: a proof longer than the path fails.
        if sn == 0:
            return False
        # 4b.
        if fn & 1 or fn == sn:
            # 4b.i
            r = node_hash(p, r)
            # 4b.ii
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            # 4b "Otherwise" i.
            r = node_hash(r, p)
        # 4c.
        fn >>= 1
        sn >>= 1
    # Step 5.
    return sn == 0 and r == root


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Verify a consistency proof as in RFC 9162 2.1.4.2 (needs 0 < first < second)."""
    # Precondition stated by 2.1.4.2.
    if not 0 < first < second:
        return False
    # Step 1: an empty consistency path fails.
    if not proof:
        return False
    path = list(proof)
    # Step 2: if first is an exact power of 2, prepend first_hash.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    # Step 3: fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # Step 4: if LSB(fn) is set, right-shift both until it is not.
    if fn & 1:
        while fn & 1:
            fn >>= 1
            sn >>= 1
    # Step 5: fr and sr start at the first value of the path.
    fr = sr = path[0]
    # Step 6: for each subsequent value c.
    for c in path[1:]:
        # 6a.
        if sn == 0:
            return False
        # 6b.
        if fn & 1 or fn == sn:
            # 6b.i, 6b.ii
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # 6b.iii
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            # 6b "Otherwise" i.
            sr = node_hash(sr, c)
        # 6c.
        fn >>= 1
        sn >>= 1
    # Step 7.
    return fr == first_root and sr == second_root and sn == 0


def _split(n: int) -> int:
    """RFC 9162 2.1.1: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def _is_complete(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def multi_proof_ranges(indexes: Sequence[int], tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges [start, end) of a multi-leaf inclusion proof, left to right.

    RFC 9162's recursion over [0, tree_size): a range that holds none of the
    (strictly increasing) ``indexes`` and is a complete subtree is a node of
    the proof; a range that holds none and is not complete is split further.
    """
    out: list[tuple[int, int]] = []

    def walk(lo: int, hi: int, leaves: Sequence[int]) -> None:
        if not leaves:
            if _is_complete(hi - lo):
                out.append((lo, hi))
                return
        elif hi - lo == 1:
            return
        mid = lo + _split(hi - lo)
        at = sum(1 for i in leaves if i < mid)
        walk(lo, mid, leaves[:at])
        walk(mid, hi, leaves[at:])

    if tree_size > 0:
        walk(0, tree_size, list(indexes))
    return out


def gap_ranges(after: int | None, before: int | None, tree_size: int) -> list[tuple[int, int]]:
    """The proof's ranges between two consecutive proven leaves (None: the tree's
    start or end). They depend on these two leaves and the size alone."""
    leaves = [i for i in (after, before) if i is not None]
    return [
        (start, end)
        for start, end in multi_proof_ranges(leaves, tree_size)
        if (after is None or start > after) and (before is None or end <= before)
    ]


def verify_multi_inclusion(
    tree_size: int,
    leaves: Sequence[tuple[int, bytes]],
    proof: Sequence[bytes],
    root: bytes,
) -> bool:
    """Verify a multi-leaf inclusion proof: ``leaves`` are (index, leaf hash),
    strictly increasing; every proof node must be used, exactly once."""
    indexes = [i for i, _ in leaves]
    if any(a >= b for a, b in zip(indexes, indexes[1:])):
        return False
    if any(i < 0 or i >= tree_size for i in indexes):
        return False
    if tree_size == 0:
        return not proof and root == EMPTY_TREE_ROOT
    nodes = iter(proof)

    def fold(lo: int, hi: int, part: Sequence[tuple[int, bytes]]) -> bytes | None:
        if not part and _is_complete(hi - lo):
            return next(nodes, None)
        if hi - lo == 1:
            return part[0][1]
        mid = lo + _split(hi - lo)
        at = sum(1 for i, _ in part if i < mid)
        left = fold(lo, mid, part[:at])
        right = fold(mid, hi, part[at:]) if left is not None else None
        return None if right is None else node_hash(left, right)

    computed = fold(0, tree_size, list(leaves))
    return computed is not None and next(nodes, None) is None and computed == root


# ---------------------------------------------------------------------------
# Signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint)
# ---------------------------------------------------------------------------


def _b64decode(value: Any, what: str) -> bytes:
    """Strict standard base64 (with padding); rejects non-canonical input."""
    if not isinstance(value, str):
        raise VerificationError(f"{what}: expected a base64 string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise VerificationError(f"{what}: invalid base64") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise VerificationError(f"{what}: non-canonical base64")
    return raw


def _b64hash(value: Any, what: str) -> bytes:
    raw = _b64decode(value, what)
    if len(raw) != HASH_SIZE:
        raise VerificationError(f"{what}: expected a {HASH_SIZE}-byte hash, got {len(raw)} bytes")
    return raw


def _hexhash(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise VerificationError(f"{what}: expected a hex SHA-256 hash")
    return bytes.fromhex(value)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise VerificationError(f"invalid key name {name!r}")


def compute_key_id(name: str, public_key: bytes) -> int:
    """Key id = first four bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || key)."""
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + public_key
    ).digest()
    return int.from_bytes(digest[:KEY_ID_SIZE], "big")


@dataclass(frozen=True)
class VerifierKey:
    """An Ed25519 note verifier key."""

    name: str
    key_id: int
    public_key: bytes

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id:08x}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse ``<name>+<hex id>+<base64(0x01 || public key)>``, checking the id."""
    text = text.strip()
    parts = text.split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3:
        raise VerificationError("verifier key must have the form <name>+<key id>+<base64 key>")
    name, hex_id, b64_key = parts
    _check_key_name(name)
    if not _KEY_ID.fullmatch(hex_id):
        raise VerificationError("verifier key id must be 8 lowercase hex digits")
    raw = _b64decode(b64_key, "verifier key")
    if len(raw) != 1 + ED25519_PUBLIC_KEY_SIZE or raw[0] != ED25519_SIGNATURE_TYPE:
        raise VerificationError("verifier key is not an Ed25519 (type 0x01) key")
    public_key = raw[1:]
    key_id = int(hex_id, 16)
    if compute_key_id(name, public_key) != key_id:
        raise VerificationError("verifier key id does not match its name and public key")
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise VerificationError("verifier key is not a valid Ed25519 public key") from None
    return VerifierKey(name=name, key_id=key_id, public_key=public_key)


def load_verifier_key(path: str | Path) -> VerifierKey:
    return parse_verifier_key(Path(path).read_text(encoding="utf-8"))


def open_note(note: str | bytes, key: VerifierKey) -> str:
    """Verify a signed note with ``key`` and return its text (with final newline).

    Signatures by other keys are ignored. A signature whose name and key id
    both match ``key`` must verify, and at least one must be present.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise VerificationError("note must be a string")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise VerificationError("note contains control characters")
    if not note.endswith("\n"):
        raise VerificationError("note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("note has no blank line before its signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    lines = signature_block[:-1].split("\n") if signature_block else []
    if not lines:
        raise VerificationError("note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError("note has too many signatures")

    message = text.encode("utf-8")
    verified = 0
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerificationError(f"malformed signature line {line!r}")
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(fields) != 2:
            raise VerificationError(f"malformed signature line {line!r}")
        name, b64_sig = fields
        _check_key_name(name)
        raw = _b64decode(b64_sig, "signature")
        if len(raw) <= KEY_ID_SIZE:
            raise VerificationError("signature is too short")
        key_id = int.from_bytes(raw[:KEY_ID_SIZE], "big")
        if name != key.name or key_id != key.key_id:
            continue  # unknown key: ignored, as the spec requires
        if not key.verify(message, raw[KEY_ID_SIZE:]):
            raise VerificationError(f"signature by {key} does not verify")
        verified += 1
    if verified == 0:
        raise VerificationError(f"note is not signed by {key}")
    return text


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    @property
    def root_b64(self) -> str:
        return _b64(self.root_hash)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text: exactly ``origin\\nsize\\nbase64 root\\n``."""
    if not text.endswith("\n"):
        raise VerificationError("checkpoint text does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) != 3:
        raise VerificationError(f"checkpoint text has {len(lines)} lines, expected 3")
    origin, size, root = lines
    if not origin:
        raise VerificationError("checkpoint origin is empty")
    if not _DECIMAL.fullmatch(size):
        raise VerificationError(f"checkpoint tree size {size!r} is not a canonical decimal")
    tree_size = int(size)
    if tree_size >= 1 << 64:
        raise VerificationError("checkpoint tree size is too large")
    return Checkpoint(origin=origin, tree_size=tree_size, root_hash=_b64hash(root, "checkpoint root hash"))


def verify_checkpoint(note: str | bytes, key: VerifierKey, origin: str | None = None) -> Checkpoint:
    """Verify a checkpoint note's signature and parse it."""
    checkpoint = parse_checkpoint(open_note(note, key))
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}"
        )
    return checkpoint


# ---------------------------------------------------------------------------
# Server JSON documents
# ---------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field(obj: Any, name: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise VerificationError(f"{where}: expected a JSON object")
    if name not in obj:
        raise VerificationError(f"{where}: missing {name!r}")
    return obj[name]


def _uint(obj: Any, name: str, where: str) -> int:
    value = _field(obj, name, where)
    if not _is_int(value) or value < 0:
        raise VerificationError(f"{where}: {name!r} must be a non-negative integer")
    return value


def _hash_list(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise VerificationError(f"{what}: expected a list of base64 hashes")
    return [_b64hash(item, f"{what}[{i}]") for i, item in enumerate(value)]


def checkpoint_from_json(
    obj: Any, key: VerifierKey, origin: str | None = None, where: str = "checkpoint"
) -> Checkpoint:
    """Verify ``{"note": ..., "origin", "tree_size", "root_hash", ...}``.

    The checkpoint is read from the signed note; the other fields are
    unsigned mirrors and must agree with it when present.
    """
    note = _field(obj, "note", where)
    if not isinstance(note, str):
        raise VerificationError(f"{where}: 'note' must be a string")
    checkpoint = verify_checkpoint(note, key, origin)
    mirrors = {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_b64,
    }
    for name, signed in mirrors.items():
        if name in obj:
            value = obj[name]
            same = (_is_int(value) and value == signed) if name == "tree_size" else value == signed
            if not same:
                raise VerificationError(
                    f"{where}: unsigned field {name!r} ({value!r}) disagrees with the signed note ({signed!r})"
                )
    return checkpoint


@dataclass(frozen=True)
class InclusionResult:
    checkpoint: Checkpoint
    leaf_index: int
    leaf_hash: bytes


def check_inclusion(doc: Any, key: VerifierKey, origin: str | None = None) -> InclusionResult:
    """Verify an inclusion proof document against its signed checkpoint."""
    checkpoint = checkpoint_from_json(_field(doc, "checkpoint", "proof"), key, origin)
    leaf_index = _uint(doc, "leaf_index", "proof")
    if "tree_size" in doc:
        tree_size = doc["tree_size"]
        if not (_is_int(tree_size) and tree_size == checkpoint.tree_size):
            raise VerificationError(
                f"unsigned field 'tree_size' ({tree_size!r}) disagrees with the signed note "
                f"({checkpoint.tree_size})"
            )
    leaf = _b64hash(_field(doc, "leaf_hash", "proof"), "leaf_hash")
    if doc.get("leaf") is not None:
        data = doc["leaf"]
        if not isinstance(data, str):
            raise VerificationError("'leaf' must be a string")
        if leaf_hash(data.encode("utf-8")) != leaf:
            raise VerificationError("leaf does not hash to leaf_hash")
    proof = _hash_list(_field(doc, "proof", "proof"), "proof")
    if leaf_index >= checkpoint.tree_size:
        raise VerificationError(
            f"leaf index {leaf_index} is outside the tree of size {checkpoint.tree_size}"
        )
    if not verify_inclusion(leaf_index, checkpoint.tree_size, leaf, proof, checkpoint.root_hash):
        raise VerificationError(
            f"inclusion proof for leaf {leaf_index} does not verify against the signed root "
            f"of tree size {checkpoint.tree_size}"
        )
    return InclusionResult(checkpoint=checkpoint, leaf_index=leaf_index, leaf_hash=leaf)


def load_old_checkpoint(data: str | bytes, key: VerifierKey, origin: str | None = None) -> Checkpoint:
    """Read a checkpoint from a receipt JSON, a JSON object holding a
    ``checkpoint`` member, a checkpoint JSON object, or a bare signed note."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("old checkpoint is not valid UTF-8") from None
    if data.lstrip().startswith("{"):
        try:
            doc = json.loads(data)
        except json.JSONDecodeError as err:
            raise VerificationError(f"old checkpoint: invalid JSON: {err}") from None
        if isinstance(doc, dict) and isinstance(doc.get("receipt"), dict):
            doc = doc["receipt"]
        if isinstance(doc, dict) and "checkpoint" in doc:
            doc = doc["checkpoint"]
        return checkpoint_from_json(doc, key, origin, where="old checkpoint")
    return verify_checkpoint(data, key, origin)


def check_consistency(
    old: Checkpoint, doc: Any, key: VerifierKey, origin: str | None = None
) -> Checkpoint:
    """Verify that the signed checkpoint in ``doc`` extends the verified ``old`` one."""
    new = checkpoint_from_json(_field(doc, "checkpoint", "consistency proof"), key, origin)
    first = _uint(doc, "first", "consistency proof")
    second = _uint(doc, "second", "consistency proof")
    proof = _hash_list(_field(doc, "proof", "consistency proof"), "proof")
    if new.origin != old.origin:
        raise VerificationError(
            f"checkpoints are from different logs: {old.origin!r} and {new.origin!r}"
        )
    if first != old.tree_size:
        raise VerificationError(
            f"proof starts at size {first} but the old checkpoint has size {old.tree_size}"
        )
    if second != new.tree_size:
        raise VerificationError(
            f"proof ends at size {second} but the new checkpoint has size {new.tree_size}"
        )
    if old.tree_size > new.tree_size:
        raise VerificationError(
            f"old checkpoint (size {old.tree_size}) is larger than the new one (size {new.tree_size})"
        )
    if old.tree_size == new.tree_size:
        if proof or old.root_hash != new.root_hash:
            raise VerificationError("checkpoints of the same size have different roots")
        return new
    if old.tree_size == 0:
        if proof or old.root_hash != EMPTY_TREE_ROOT:
            raise VerificationError("invalid consistency proof from the empty tree")
        return new
    if not verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof):
        raise VerificationError(
            f"consistency proof from size {old.tree_size} to size {new.tree_size} does not verify"
        )
    return new


def check_receipt(doc: Any, key: VerifierKey, origin: str | None = None) -> tuple[Checkpoint, list[int]]:
    """Verify a receipt's checkpoint and that its leaf indexes lie inside the tree."""
    receipt = _field(doc, "receipt", "receipt")
    checkpoint = checkpoint_from_json(_field(receipt, "checkpoint", "receipt"), key, origin)
    indexes = _field(receipt, "leaf_indexes", "receipt")
    if not isinstance(indexes, list):
        raise VerificationError("receipt: 'leaf_indexes' must be a list")
    for index in indexes:
        if not _is_int(index) or index < 0:
            raise VerificationError(f"receipt: invalid leaf index {index!r}")
        if index >= checkpoint.tree_size:
            raise VerificationError(
                f"receipt: leaf index {index} is outside the tree of size {checkpoint.tree_size}"
            )
    return checkpoint, indexes


MANIFEST_FORMAT = "activity-log-manifest/3"


@dataclass(frozen=True)
class ManifestResult:
    checkpoint: Checkpoint
    seqs: list[int]


def check_manifest(text: str, key: VerifierKey, origin: str | None = None) -> ManifestResult:
    """Verify an export manifest (format 3): its checkpoint's signature, each
    line's leaf against its hash, and that the lines' leaves and the gaps'
    nodes recompute the signed root. The origin must be ``<key name>/<tenant>``
    (or ``origin`` when given)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise VerificationError("the manifest is empty")
    try:
        values = [json.loads(line) for line in lines]
    except json.JSONDecodeError as err:
        raise VerificationError(f"manifest: invalid JSON: {err}") from None
    header, body = values[0], values[1:]
    if _field(header, "format", "manifest header") != MANIFEST_FORMAT:
        raise VerificationError(f"unknown manifest format {header.get('format')!r}")
    tenant = _field(header, "tenant", "manifest header")
    note = _field(header, "checkpoint", "manifest header")
    if not isinstance(tenant, str) or not isinstance(note, str):
        raise VerificationError("manifest header: 'tenant' and 'checkpoint' must be strings")
    checkpoint = verify_checkpoint(note, key, origin or f"{key.name}/{tenant}")
    size = checkpoint.tree_size
    if not body or not isinstance(body[-1], dict) or body[-1].get("end") is not True:
        raise VerificationError("the manifest has no end line: it was cut short")
    leaves: list[tuple[int, bytes]] = []
    proof: list[bytes] = []
    previous: int | None = None
    for n, line in enumerate(body):
        last = n == len(body) - 1
        where = "end line" if last else f"manifest line {n + 1}"
        if last:
            here = None
        else:
            seq = _uint(line, "seq", where)
            if seq < 1 or seq > size:
                raise VerificationError(f"seq {seq} is not in the checkpoint of {size} events")
            here = seq - 1
            if previous is not None and here <= previous:
                raise VerificationError(f"seq {seq} is out of order or repeated")
        gap = _hash_list(_field(line, "gap", where), f"{where} gap")
        if len(gap) != len(gap_ranges(previous, here, size)):
            raise VerificationError(f"{where}: the gap does not hold the proof's nodes there")
        proof.extend(gap)
        if here is None:
            break
        digest = _hexhash(_field(line, "hash", where), f"{where} hash")
        leaf = line.get("leaf")
        if leaf is not None:
            if not isinstance(leaf, str) or leaf_hash(leaf.encode("utf-8")) != digest:
                raise VerificationError(f"seq {here + 1}: the leaf does not hash to its hash")
            try:
                leaf_seq = json.loads(leaf).get("seq")
            except (json.JSONDecodeError, AttributeError):
                raise VerificationError(f"seq {here + 1}: the leaf is not a JSON object") from None
            if leaf_seq != here + 1:
                raise VerificationError(f"seq {here + 1}: the leaf is another event's")
        elif line.get("deleted") is not True:
            raise VerificationError(f"seq {here + 1}: an exported event without its leaf")
        leaves.append((here, digest))
        previous = here
    if not verify_multi_inclusion(size, leaves, proof, checkpoint.root_hash):
        raise VerificationError("the manifest's hashes do not recompute the signed root")
    if header.get("exported") != len(leaves):
        raise VerificationError(
            f"the manifest holds {len(leaves)} events, its header says {header.get('exported')!r}"
        )
    return ManifestResult(checkpoint=checkpoint, seqs=[i + 1 for i, _ in leaves])


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise VerificationError(f"{path}: invalid JSON: {err}") from None
    except UnicodeDecodeError:
        raise VerificationError(f"{path}: not valid UTF-8") from None


def _describe(checkpoint: Checkpoint) -> str:
    return (
        f"origin={checkpoint.origin} tree_size={checkpoint.tree_size} "
        f"root={checkpoint.root_b64}"
    )


def cmd_checkpoint(args: argparse.Namespace) -> str:
    key = load_verifier_key(args.key)
    checkpoint = verify_checkpoint(Path(args.note).read_bytes(), key, args.origin)
    return f"ok checkpoint {_describe(checkpoint)}"


def cmd_inclusion(args: argparse.Namespace) -> str:
    key = load_verifier_key(args.key)
    result = check_inclusion(_read_json(args.proof), key, args.origin)
    return f"ok inclusion leaf_index={result.leaf_index} {_describe(result.checkpoint)}"


def cmd_consistency(args: argparse.Namespace) -> str:
    key = load_verifier_key(args.key)
    old = load_old_checkpoint(Path(args.old).read_bytes(), key, args.origin)
    new = check_consistency(old, _read_json(args.proof), key, args.origin)
    return (
        f"ok consistency origin={new.origin} old_size={old.tree_size} "
        f"new_size={new.tree_size} new_root={new.root_b64}"
    )


def cmd_receipt(args: argparse.Namespace) -> str:
    key = load_verifier_key(args.key)
    checkpoint, indexes = check_receipt(_read_json(args.receipt), key, args.origin)
    return f"ok receipt {_describe(checkpoint)} leaf_indexes={','.join(map(str, indexes))}"


def cmd_manifest(args: argparse.Namespace) -> str:
    key = load_verifier_key(args.key)
    try:
        text = Path(args.manifest).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise VerificationError(f"{args.manifest}: not valid UTF-8") from None
    result = check_manifest(text, key, args.origin)
    return f"ok manifest events={len(result.seqs)} {_describe(result.checkpoint)}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verify.py",
        description="Verify Activity Log checkpoints, receipts, Merkle proofs and export manifests offline.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str, func) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--key", required=True, help="file holding the log's verifier key")
        p.add_argument("--origin", help="require this checkpoint origin")
        p.set_defaults(func=func)
        return p

    add("checkpoint", "verify a signed checkpoint note", cmd_checkpoint).add_argument(
        "note", help="signed checkpoint note file"
    )
    add("inclusion", "verify an inclusion proof JSON", cmd_inclusion).add_argument(
        "proof", help="inclusion proof JSON file"
    )
    p = add("consistency", "verify a consistency proof JSON", cmd_consistency)
    p.add_argument(
        "--old", required=True, help="older checkpoint: receipt JSON or signed note file"
    )
    p.add_argument("proof", help="consistency proof JSON file")
    add("receipt", "verify an ingestion receipt JSON", cmd_receipt).add_argument(
        "receipt", help="receipt JSON file"
    )
    add("manifest", "verify an export manifest's events in its signed checkpoint", cmd_manifest).add_argument(
        "manifest", help="export manifest (JSON Lines) file"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        message = args.func(args)
    except VerificationError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
