"""Tests for verify.py: no network and no server.

Trees, inclusion paths and consistency proofs are built here from the
recursive definitions of RFC 9162 (MTH, PATH, PROOF/SUBPROOF), independently
of the iterative verification algorithms in verify.py, and notes are signed
with a freshly generated Ed25519 key.

Run from the repository root:

    python -m unittest scripts/integrity/test_verify.py
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import verify  # noqa: E402

ORIGIN = "auditlog.local/acme"


# --- RFC 9162 2.1 recursive definitions --------------------------------------


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes (2.1.1)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (2.1.3.1)."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (2.1.4.1)."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (2.1.4.1)."""
    return subproof(m, leaves, True)


# --- fixtures ------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def flip(raw: bytes, i: int = 0) -> bytes:
    out = bytearray(raw)
    out[i % len(out)] ^= 0x01
    return bytes(out)


def flip_b64(value: str, i: int = 0) -> str:
    return b64(flip(base64.b64decode(value), i))


class Signer:
    def __init__(self, name: str = ORIGIN) -> None:
        self.name = name
        self.private = Ed25519PrivateKey.generate()
        self.public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        digest = hashlib.sha256(name.encode() + b"\n\x01" + self.public).digest()
        self.key_id = digest[:4]

    @property
    def key_text(self) -> str:
        encoded = b64(bytes([0x01]) + self.public)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @property
    def key(self) -> verify.VerifierKey:
        return verify.parse_verifier_key(self.key_text)

    def signature_line(self, text: str) -> str:
        sig = self.private.sign(text.encode("utf-8"))
        return f"\u2014 {self.name} {b64(self.key_id + sig)}\n"

    def sign(self, text: str) -> str:
        return text + "\n" + self.signature_line(text)


def checkpoint_text(origin: str, leaves: list[bytes]) -> str:
    return f"{origin}\n{len(leaves)}\n{b64(mth(leaves))}\n"


def checkpoint_json(signer: Signer, leaves: list[bytes], origin: str = ORIGIN) -> dict:
    return {
        "note": signer.sign(checkpoint_text(origin, leaves)),
        "origin": origin,
        "tree_size": len(leaves),
        "root_hash": b64(mth(leaves)),
        "signed_at": "2025-01-01T00:00:00Z",
    }


def event(i: int) -> str:
    return json.dumps({"id": f"evt-{i}", "action": "user.login", "actor": "ä-user"})


def tree(n: int) -> tuple[list[str], list[bytes]]:
    data = [event(i) for i in range(n)]
    return data, [verify.leaf_hash(d.encode("utf-8")) for d in data]


def inclusion_doc(signer: Signer, data: list[str], hashes: list[bytes], index: int, size: int) -> dict:
    return {
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": b64(hashes[index]),
        "leaf": data[index],
        "proof": [b64(h) for h in path(index, hashes[:size])],
        "checkpoint": checkpoint_json(signer, hashes[:size]),
    }


def consistency_doc(signer: Signer, hashes: list[bytes], first: int, second: int) -> dict:
    return {
        "first": first,
        "second": second,
        "proof": [b64(h) for h in proof(first, hashes[:second])] if 0 < first < second else [],
        "checkpoint": checkpoint_json(signer, hashes[:second]),
    }


def receipt_doc(signer: Signer, hashes: list[bytes], indexes: list[int]) -> dict:
    return {
        "ids": [f"evt-{i}" for i in indexes],
        "accepted": len(indexes),
        "duplicates": 0,
        "receipt": {"checkpoint": checkpoint_json(signer, hashes), "leaf_indexes": indexes},
    }


def path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """The leaf ranges of PATH(m, D[lo:hi]) (2.1.3.1), bottom first."""
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < lo + k:
        return path_ranges(m, lo, lo + k) + [(lo + k, hi)]
    return path_ranges(m, lo + k, hi) + [(lo, lo + k)]


def complete_parts(lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) cut as MTH splits it until every part is a complete subtree."""
    n = hi - lo
    if n & (n - 1) == 0:
        return [(lo, hi)]
    k = _split(n)
    return complete_parts(lo, lo + k) + complete_parts(lo + k, hi)


def multi_proof(indexes: list[int], size: int) -> list[tuple[int, int]]:
    """A multi-leaf proof's ranges, built from each leaf's PATH (apart from verify.py's
    recursion): every sibling range holding no proven leaf, cut into complete subtrees."""
    if not indexes:
        return complete_parts(0, size) if size else []
    ranges = set()
    for m in indexes:
        for lo, hi in path_ranges(m, 0, size):
            if not any(lo <= i < hi for i in indexes):
                ranges.update(complete_parts(lo, hi))
    return sorted(ranges)


MANIFEST_KEY_NAME = "auditlog.local"


def manifest_leaf(i: int) -> str:
    return json.dumps({"seq": i + 1, "action": "booking.updated", "personal": {"actor_id": f"{i:064x}"}})


def manifest_text(signer: Signer, size: int, indexes: list[int], hashes: list[bytes] | None = None) -> str:
    """A format-3 manifest of the leaves `indexes` of a tree of `size`."""
    data = [manifest_leaf(i) for i in range(size)]
    hashes = hashes or [verify.leaf_hash(d.encode("utf-8")) for d in data]
    origin = f"{MANIFEST_KEY_NAME}/acme"
    header = {"format": "activity-log-manifest/3", "tenant_id": 1, "tenant": "acme", "exported": len(indexes),
              "generated_at": "2026-01-01T00:00:00Z", "filters": "", "checkpoint": signer.sign(checkpoint_text(origin, hashes))}
    nodes = multi_proof(indexes, size)
    lines = [header]
    previous = -1
    for i in indexes + [None]:
        end = size if i is None else i
        gap = [b64(mth(hashes[lo:hi])) for lo, hi in nodes if previous < lo and hi <= end]
        if i is None:
            lines.append({"end": True, "gap": gap})
        else:
            lines.append({"seq": i + 1, "hash": hashes[i].hex(), "leaf": data[i], "salt": "00" * 16, "gap": gap})
            previous = i
    return "".join(json.dumps(line) + "\n" for line in lines)


# --- Merkle algorithms ------------------------------------------------------------


class MerkleTest(unittest.TestCase):
    # RFC 6962 / certificate-transparency test leaves and their tree roots.
    VECTOR_LEAVES = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        bytes(range(0x50, 0x58)),
        bytes(range(0x60, 0x70)),
    ]
    VECTOR_ROOTS = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    def setUp(self) -> None:
        self.hashes = [verify.leaf_hash(b"leaf %d" % i) for i in range(33)]
        self.roots = [mth(self.hashes[:n]) for n in range(len(self.hashes) + 1)]

    def test_known_roots(self) -> None:
        self.assertEqual(
            mth([]).hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        leaves = [verify.leaf_hash(d) for d in self.VECTOR_LEAVES]
        for n, expected in enumerate(self.VECTOR_ROOTS, start=1):
            self.assertEqual(mth(leaves[:n]).hex(), expected, n)

    def test_every_path_verifies(self) -> None:
        for n in range(1, 33):
            for m in range(n):
                p = path(m, self.hashes[:n])
                self.assertTrue(verify.verify_inclusion(m, n, self.hashes[m], p, self.roots[n]), (m, n))

    def test_every_proof_verifies(self) -> None:
        for n in range(2, 33):
            for m in range(1, n):
                p = proof(m, self.hashes[:n])
                self.assertTrue(
                    verify.verify_consistency(m, n, self.roots[m], self.roots[n], p), (m, n)
                )

    def test_inclusion_rejections(self) -> None:
        vi = verify.verify_inclusion
        top = len(self.hashes)
        for n in range(1, 21):
            for m in range(n):
                p = path(m, self.hashes[:n])
                leaf, root = self.hashes[m], self.roots[n]
                self.assertFalse(vi(m, n, flip(leaf), p, root))
                self.assertFalse(vi(m, n, leaf, p, flip(root)))
                self.assertFalse(vi(m, n, self.hashes[(m + 1) % top], p, root))
                self.assertFalse(vi(m, m, leaf, p, root))  # index == size
                for i in range(len(p)):
                    bad = list(p)
                    bad[i] = flip(bad[i], 7 * i)
                    self.assertFalse(vi(m, n, leaf, bad, root), (m, n, i))
                if p:
                    self.assertFalse(vi(m, n, leaf, p[:-1], root))
                self.assertFalse(vi(m, n, leaf, p + [self.hashes[0]], root))
                for j in range(n):
                    if j != m:
                        self.assertFalse(vi(j, n, leaf, p, root), (m, j, n))
                for n2 in range(m + 1, top + 1):
                    if n2 != n:
                        self.assertFalse(vi(m, n2, leaf, p, self.roots[n2]), (m, n, n2))

    def test_consistency_rejections(self) -> None:
        vc = verify.verify_consistency
        top = len(self.hashes)
        for n in range(2, 21):
            for m in range(1, n):
                p = proof(m, self.hashes[:n])
                r1, r2 = self.roots[m], self.roots[n]
                self.assertFalse(vc(m, n, flip(r1), r2, p))
                self.assertFalse(vc(m, n, r1, flip(r2), p))
                self.assertFalse(vc(m, n, r1, r2, []))
                self.assertFalse(vc(m, n, r1, r2, p[:-1]))
                self.assertFalse(vc(m, n, r1, r2, p + [self.hashes[0]]))
                self.assertFalse(vc(0, n, self.roots[0], r2, p))
                self.assertFalse(vc(n, m, r2, r1, p))
                for i in range(len(p)):
                    bad = list(p)
                    bad[i] = flip(bad[i], 5 * i)
                    self.assertFalse(vc(m, n, r1, r2, bad), (m, n, i))
                for m2 in range(1, n):
                    if m2 != m:
                        self.assertFalse(vc(m2, n, self.roots[m2], r2, p), (m, m2, n))
                for n2 in range(m + 1, top + 1):
                    if n2 != n:
                        self.assertFalse(vc(m, n2, r1, self.roots[n2], p), (m, n, n2))


# --- keys, notes, checkpoints ----------------------------------------------------


class NoteTest(unittest.TestCase):
    def setUp(self) -> None:
        self.signer = Signer()
        _, self.hashes = tree(9)
        self.text = checkpoint_text(ORIGIN, self.hashes)

    def test_key_roundtrip(self) -> None:
        key = self.signer.key
        self.assertEqual(key.name, ORIGIN)
        self.assertEqual(f"{key.key_id:08x}", self.signer.key_id.hex())
        self.assertEqual(verify.parse_verifier_key(self.signer.key_text + "\n"), key)

    def test_key_whose_base64_contains_plus(self) -> None:
        signer = next(s for s in (Signer() for _ in range(1000)) if s.key_text.count("+") > 2)
        self.assertEqual(signer.key.public_key, signer.public)
        note = signer.sign(checkpoint_text(ORIGIN, self.hashes))
        self.assertEqual(verify.verify_checkpoint(note, signer.key).tree_size, 9)

    def test_key_with_wrong_id_is_rejected(self) -> None:
        name, _, b64key = self.signer.key_text.split("+", 2)
        with self.assertRaises(verify.VerificationError):
            verify.parse_verifier_key(f"{name}+{flip(self.signer.key_id).hex()}+{b64key}")

    def test_malformed_keys_are_rejected(self) -> None:
        name, hex_id, b64key = self.signer.key_text.split("+", 2)
        raw = base64.b64decode(b64key)
        wrong_type = b64(bytes([0x02]) + raw[1:])
        cases = [
            "",
            f"{name}+{hex_id}",
            f"{name}+{hex_id[:7]}+{b64key}",
            f"{name}+{hex_id}0+{b64key}",
            f"{name}+{hex_id}+{b64(raw[1:])}",
            f"{name}+{hex_id}+{wrong_type}",
            f"+{hex_id}+{b64key}",
            f"bad name+{hex_id}+{b64key}",
        ]
        if hex_id != hex_id.upper():
            cases.append(f"{name}+{hex_id.upper()}+{b64key}")
        for text in cases:
            with self.assertRaises(verify.VerificationError, msg=text):
                verify.parse_verifier_key(text)

    def test_good_checkpoint(self) -> None:
        cp = verify.verify_checkpoint(self.signer.sign(self.text), self.signer.key)
        self.assertEqual(cp, verify.Checkpoint(ORIGIN, 9, mth(self.hashes)))
        cp = verify.verify_checkpoint(self.signer.sign(self.text).encode(), self.signer.key, ORIGIN)
        self.assertEqual(cp.tree_size, 9)

    def test_unexpected_origin_is_rejected(self) -> None:
        with self.assertRaises(verify.VerificationError):
            verify.verify_checkpoint(self.signer.sign(self.text), self.signer.key, "auditlog.local/other")

    def test_bad_signature_is_rejected(self) -> None:
        note = self.signer.sign(self.text)
        head, sig = note.rsplit(" ", 1)
        tampered = head + " " + flip_b64(sig.strip(), 10) + "\n"
        with self.assertRaises(verify.VerificationError):
            verify.open_note(tampered, self.signer.key)

    def test_tampered_text_is_rejected(self) -> None:
        note = self.signer.sign(self.text).replace("\n9\n", "\n8\n", 1)
        with self.assertRaises(verify.VerificationError):
            verify.open_note(note, self.signer.key)

    def test_key_with_another_name_is_rejected(self) -> None:
        other = Signer("auditlog.local/other")
        with self.assertRaises(verify.VerificationError):
            verify.open_note(other.sign(self.text), self.signer.key)
        with self.assertRaises(verify.VerificationError):
            verify.open_note(self.signer.sign(self.text), other.key)

    def test_key_with_same_name_but_another_id_is_rejected(self) -> None:
        impostor = Signer(ORIGIN)  # same name, different key, so a different id
        self.assertNotEqual(impostor.key_id, self.signer.key_id)
        with self.assertRaises(verify.VerificationError):
            verify.open_note(impostor.sign(self.text), self.signer.key)

    def test_signature_with_matching_name_and_id_must_verify(self) -> None:
        impostor = Signer(ORIGIN)
        # A forged line that claims the real key's id but is signed by another key.
        forged = impostor.signature_line(self.text).split(" ")
        sig = base64.b64decode(forged[2])
        forged_line = f"\u2014 {ORIGIN} {b64(self.signer.key_id + sig[4:])}\n"
        note = self.signer.sign(self.text) + forged_line
        with self.assertRaises(verify.VerificationError):
            verify.open_note(note, self.signer.key)

    def test_unknown_signatures_are_ignored(self) -> None:
        other = Signer("witness.example/w1")
        note = self.signer.sign(self.text) + other.signature_line(self.text)
        self.assertEqual(verify.open_note(note, self.signer.key), self.text)
        note = self.text + "\n" + other.signature_line(self.text) + self.signer.signature_line(self.text)
        self.assertEqual(verify.open_note(note, self.signer.key), self.text)

    def test_malformed_notes_are_rejected(self) -> None:
        good = self.signer.sign(self.text)
        for note in [
            good[:-1],  # no final newline
            good.replace("\n\n", "\n"),  # no blank line
            good.replace("\u2014", "-"),  # ASCII dash
            good.replace("acme\n", "acme\r\n", 1),  # control character
            self.text + "\n",  # no signatures
            good.replace(f"\u2014 {ORIGIN} ", f"\u2014 {ORIGIN}  "),
        ]:
            with self.assertRaises(verify.VerificationError, msg=repr(note)):
                verify.open_note(note, self.signer.key)
        with self.assertRaises(verify.VerificationError):
            verify.open_note(b"\xff" + good.encode(), self.signer.key)

    def test_malformed_checkpoints_are_rejected(self) -> None:
        root = b64(mth(self.hashes))
        for text in [
            f"{ORIGIN}\n09\n{root}\n",
            f"{ORIGIN}\n+9\n{root}\n",
            f"{ORIGIN}\n9\n{root}\nextension\n",
            f"{ORIGIN}\n9\n",
            f"\n9\n{root}\n",
            f"{ORIGIN}\n9\n{b64(b'x' * 31)}\n",
            f"{ORIGIN}\n9\n{root.rstrip('=')}\n",
            f"{ORIGIN}\n\u0669\n{root}\n",  # Arabic-Indic digit nine
        ]:
            with self.assertRaises(verify.VerificationError, msg=text):
                verify.verify_checkpoint(self.signer.sign(text), self.signer.key)

    def test_empty_tree_checkpoint(self) -> None:
        cp = verify.verify_checkpoint(self.signer.sign(checkpoint_text(ORIGIN, [])), self.signer.key)
        self.assertEqual((cp.tree_size, cp.root_hash), (0, hashlib.sha256(b"").digest()))


# --- server documents ----------------------------------------------------------------


class InclusionTest(unittest.TestCase):
    def setUp(self) -> None:
        self.signer = Signer()
        self.data, self.hashes = tree(13)

    def doc(self, index: int = 5, size: int = 11) -> dict:
        return inclusion_doc(self.signer, self.data, self.hashes, index, size)

    def assertRejected(self, doc: dict, fragment: str = "") -> None:
        with self.assertRaises(verify.VerificationError) as ctx:
            verify.check_inclusion(doc, self.signer.key)
        self.assertIn(fragment, str(ctx.exception))

    def test_every_leaf_verifies(self) -> None:
        for size in range(1, 14):
            for index in range(size):
                result = verify.check_inclusion(self.doc(index, size), self.signer.key, ORIGIN)
                self.assertEqual((result.leaf_index, result.checkpoint.tree_size), (index, size))

    def test_leaf_is_optional(self) -> None:
        doc = self.doc()
        del doc["leaf"]
        verify.check_inclusion(doc, self.signer.key)
        doc["leaf"] = None
        verify.check_inclusion(doc, self.signer.key)

    def test_flipped_proof_byte(self) -> None:
        doc = self.doc()
        for i in range(len(doc["proof"])):
            bad = copy.deepcopy(doc)
            bad["proof"][i] = flip_b64(bad["proof"][i], 3 + i)
            self.assertRejected(bad, "does not verify")

    def test_wrong_leaf(self) -> None:
        doc = self.doc()
        doc["leaf"] = self.data[6]
        self.assertRejected(doc, "does not hash to leaf_hash")
        doc["leaf_hash"] = b64(self.hashes[6])
        self.assertRejected(doc, "does not verify")

    def test_wrong_index(self) -> None:
        doc = self.doc()
        doc["leaf_index"] = 4
        self.assertRejected(doc, "does not verify")
        doc["leaf_index"] = 11
        self.assertRejected(doc, "outside the tree")

    def test_truncated_and_extended_proofs(self) -> None:
        doc = self.doc()
        doc["proof"] = doc["proof"][:-1]
        self.assertRejected(doc, "does not verify")
        doc = self.doc()
        doc["proof"].append(b64(self.hashes[0]))
        self.assertRejected(doc, "does not verify")

    def test_mirror_fields_must_agree_with_note(self) -> None:
        root12 = b64(mth(self.hashes[:12]))
        for mutate in [
            lambda d: d.__setitem__("tree_size", 12),
            lambda d: d.__setitem__("tree_size", "11"),
            lambda d: d["checkpoint"].__setitem__("tree_size", 12),
            lambda d: d["checkpoint"].__setitem__("tree_size", True),
            lambda d: d["checkpoint"].__setitem__("root_hash", root12),
            lambda d: d["checkpoint"].__setitem__("origin", "auditlog.local/other"),
        ]:
            doc = self.doc()
            mutate(doc)
            self.assertRejected(doc, "disagrees with the signed note")

    def test_size_and_root_come_from_the_note(self) -> None:
        # A proof from a larger tree, paired with mirror fields claiming that
        # tree but a note for the smaller one: the note wins, so it fails.
        doc = self.doc(5, 12)
        doc["checkpoint"] = checkpoint_json(self.signer, self.hashes[:11])
        doc["tree_size"] = 12
        doc["checkpoint"]["tree_size"] = 12
        self.assertRejected(doc)
        del doc["tree_size"], doc["checkpoint"]["tree_size"]
        self.assertRejected(doc, "does not verify")

    def test_bad_signature_and_other_key(self) -> None:
        doc = self.doc()
        doc["checkpoint"]["note"] = Signer(ORIGIN).sign(checkpoint_text(ORIGIN, self.hashes[:11]))
        self.assertRejected(doc, "not signed by")
        with self.assertRaises(verify.VerificationError):
            verify.check_inclusion(self.doc(), Signer("auditlog.local/other").key)

    def test_unexpected_origin(self) -> None:
        with self.assertRaises(verify.VerificationError):
            verify.check_inclusion(self.doc(), self.signer.key, "auditlog.local/other")

    def test_malformed_documents(self) -> None:
        for mutate in [
            lambda d: d.__delitem__("checkpoint"),
            lambda d: d.__delitem__("proof"),
            lambda d: d.__setitem__("leaf_index", -1),
            lambda d: d.__setitem__("leaf_index", "5"),
            lambda d: d.__setitem__("leaf_hash", "AAAA"),
            lambda d: d["proof"].__setitem__(0, "not base64!"),
        ]:
            doc = self.doc()
            mutate(doc)
            self.assertRejected(doc)


class ConsistencyTest(unittest.TestCase):
    def setUp(self) -> None:
        self.signer = Signer()
        _, self.hashes = tree(21)

    def old(self, size: int) -> verify.Checkpoint:
        return verify.load_old_checkpoint(
            json.dumps(receipt_doc(self.signer, self.hashes[:size], [size - 1])), self.signer.key
        )

    def assertRejected(self, old: verify.Checkpoint, doc: dict, fragment: str = "") -> None:
        with self.assertRaises(verify.VerificationError) as ctx:
            verify.check_consistency(old, doc, self.signer.key)
        self.assertIn(fragment, str(ctx.exception))

    def test_every_pair_verifies(self) -> None:
        for second in range(1, 22):
            for first in range(1, second + 1):
                doc = consistency_doc(self.signer, self.hashes, first, second)
                new = verify.check_consistency(self.old(first), doc, self.signer.key, ORIGIN)
                self.assertEqual(new.tree_size, second)

    def test_old_checkpoint_sources(self) -> None:
        receipt = receipt_doc(self.signer, self.hashes[:7], [6])
        note = receipt["receipt"]["checkpoint"]["note"]
        expected = verify.Checkpoint(ORIGIN, 7, mth(self.hashes[:7]))
        for source in [
            json.dumps(receipt),
            json.dumps(receipt["receipt"]["checkpoint"]),
            json.dumps(inclusion_doc(self.signer, [""] * 7, self.hashes, 3, 7)),
            note,
            note.encode(),
        ]:
            self.assertEqual(verify.load_old_checkpoint(source, self.signer.key), expected)
        bad = copy.deepcopy(receipt)
        bad["receipt"]["checkpoint"]["tree_size"] = 8
        with self.assertRaises(verify.VerificationError):
            verify.load_old_checkpoint(json.dumps(bad), self.signer.key)
        with self.assertRaises(verify.VerificationError):
            verify.load_old_checkpoint(note, Signer(ORIGIN).key)

    def test_from_empty_tree(self) -> None:
        old = verify.verify_checkpoint(self.signer.sign(checkpoint_text(ORIGIN, [])), self.signer.key)
        doc = consistency_doc(self.signer, self.hashes, 0, 5)
        self.assertEqual(verify.check_consistency(old, doc, self.signer.key).tree_size, 5)

    def test_flipped_proof_byte(self) -> None:
        doc = consistency_doc(self.signer, self.hashes, 6, 19)
        for i in range(len(doc["proof"])):
            bad = copy.deepcopy(doc)
            bad["proof"][i] = flip_b64(bad["proof"][i], 11 + i)
            self.assertRejected(self.old(6), bad, "does not verify")

    def test_forked_history(self) -> None:
        forked = list(self.hashes)
        forked[2] = verify.leaf_hash(b"rewritten")
        old = verify.load_old_checkpoint(
            json.dumps(receipt_doc(self.signer, forked[:6], [5])), self.signer.key
        )
        self.assertRejected(old, consistency_doc(self.signer, self.hashes, 6, 19), "does not verify")

    def test_sizes_must_match_the_notes(self) -> None:
        doc = consistency_doc(self.signer, self.hashes, 6, 19)
        self.assertRejected(self.old(7), doc, "old checkpoint has size 7")
        bad = copy.deepcopy(doc)
        bad["second"] = 18
        self.assertRejected(self.old(6), bad, "new checkpoint has size 19")
        self.assertRejected(self.old(19), consistency_doc(self.signer, self.hashes, 19, 6), "larger")
        same = consistency_doc(self.signer, self.hashes, 6, 6)
        same["proof"] = [b64(self.hashes[0])]
        self.assertRejected(self.old(6), same)

    def test_origins_must_match(self) -> None:
        doc = consistency_doc(self.signer, self.hashes, 6, 19)
        doc["checkpoint"] = checkpoint_json(self.signer, self.hashes[:19], origin=ORIGIN + "/archived")
        self.assertRejected(self.old(6), doc, "different logs")

    def test_bad_new_signature_and_mirror(self) -> None:
        doc = consistency_doc(self.signer, self.hashes, 6, 19)
        doc["checkpoint"]["note"] = Signer(ORIGIN).sign(checkpoint_text(ORIGIN, self.hashes[:19]))
        self.assertRejected(self.old(6), doc, "not signed by")
        doc = consistency_doc(self.signer, self.hashes, 6, 19)
        doc["checkpoint"]["root_hash"] = b64(mth(self.hashes[:18]))
        self.assertRejected(self.old(6), doc, "disagrees with the signed note")


class ReceiptTest(unittest.TestCase):
    def setUp(self) -> None:
        self.signer = Signer()
        _, self.hashes = tree(10)

    def test_good_receipt(self) -> None:
        cp, indexes = verify.check_receipt(receipt_doc(self.signer, self.hashes, [7, 8, 9]), self.signer.key)
        self.assertEqual((cp.tree_size, indexes), (10, [7, 8, 9]))

    def test_index_outside_tree(self) -> None:
        with self.assertRaises(verify.VerificationError):
            verify.check_receipt(receipt_doc(self.signer, self.hashes, [9, 10]), self.signer.key)
        for bad in [-1, "3", True, 1.0]:
            with self.assertRaises(verify.VerificationError, msg=repr(bad)):
                verify.check_receipt(receipt_doc(self.signer, self.hashes, [bad]), self.signer.key)

    def test_bad_signature_and_mirror(self) -> None:
        doc = receipt_doc(self.signer, self.hashes, [9])
        with self.assertRaises(verify.VerificationError):
            verify.check_receipt(doc, Signer(ORIGIN).key)
        doc["receipt"]["checkpoint"]["tree_size"] = 11
        with self.assertRaises(verify.VerificationError):
            verify.check_receipt(doc, self.signer.key)


# --- command line ------------------------------------------------------------------------


class ManifestTest(unittest.TestCase):
    def setUp(self) -> None:
        self.signer = Signer(MANIFEST_KEY_NAME)

    def check(self, text: str, key: verify.VerifierKey | None = None) -> verify.ManifestResult:
        return verify.check_manifest(text, key or self.signer.key)

    def test_every_subset_of_small_trees(self) -> None:
        for size in range(0, 10):
            data = [manifest_leaf(i) for i in range(size)]
            hashes = [verify.leaf_hash(d.encode("utf-8")) for d in data]
            for mask in range(1 << size):
                indexes = [i for i in range(size) if mask >> i & 1]
                self.assertEqual(verify.multi_proof_ranges(indexes, size), multi_proof(indexes, size))
                if size == 0:
                    continue
                result = self.check(manifest_text(self.signer, size, indexes, hashes))
                self.assertEqual(result.seqs, [i + 1 for i in indexes])
                self.assertEqual(result.checkpoint.tree_size, size)

    def test_gaps_depend_on_their_neighbours_alone(self) -> None:
        size, indexes = 23, [2, 3, 9, 16, 17, 21]
        nodes = verify.multi_proof_ranges(indexes, size)
        gaps = []
        for after, before in zip([None] + indexes, indexes + [None]):
            gaps.extend(verify.gap_ranges(after, before, size))
        self.assertEqual(gaps, nodes)

    def tampered(self, change) -> str:
        lines = [json.loads(line) for line in manifest_text(self.signer, 21, [1, 2, 7, 12, 19]).splitlines()]
        change(lines)
        return "".join(json.dumps(line) + "\n" for line in lines)

    def assertRejected(self, change, reason: str) -> None:
        with self.assertRaises(verify.VerificationError) as caught:
            self.check(self.tampered(change))
        self.assertIn(reason, str(caught.exception))

    def test_tampering_fails(self) -> None:
        self.check(self.tampered(lambda lines: None))

        def flip_node(lines):
            lines[3]["gap"][0] = flip_b64(lines[3]["gap"][0])

        def move_node(lines):
            lines[4]["gap"].insert(0, lines[3]["gap"].pop())

        def add_node(lines):
            lines[4]["gap"].append(lines[4]["gap"][0])

        def drop_node(lines):
            lines[-1]["gap"].pop()

        def swap_lines(lines):
            lines[2], lines[3] = lines[3], lines[2]

        def edit_leaf(lines):
            lines[2]["leaf"] = lines[2]["leaf"].replace("updated", "deleted")

        def edit_leaf_and_hash(lines):
            lines[2]["leaf"] = lines[2]["leaf"].replace("updated", "deleted")
            lines[2]["hash"] = verify.leaf_hash(lines[2]["leaf"].encode()).hex()

        def another_seq(lines):
            lines[2]["seq"] = 4

        def count(lines):
            lines[0]["exported"] = 4

        self.assertRejected(flip_node, "signed root")
        self.assertRejected(move_node, "gap")
        self.assertRejected(add_node, "gap")
        self.assertRejected(drop_node, "gap")
        self.assertRejected(swap_lines, "out of order")
        self.assertRejected(edit_leaf, "does not hash")
        self.assertRejected(edit_leaf_and_hash, "signed root")
        self.assertRejected(another_seq, "gap")
        self.assertRejected(lambda lines: lines.pop(3), "gap")
        self.assertRejected(lambda lines: lines.pop(), "cut short")
        self.assertRejected(count, "header says")
        with self.assertRaises(verify.VerificationError):
            self.check(self.tampered(lambda lines: None), Signer(MANIFEST_KEY_NAME).key)
        with self.assertRaises(verify.VerificationError):
            self.check(self.tampered(lambda lines: lines[0].update(tenant="globex")))

    def test_multi_inclusion_rejections(self) -> None:
        data = [manifest_leaf(i) for i in range(13)]
        hashes = [verify.leaf_hash(d.encode("utf-8")) for d in data]
        root = mth(hashes)
        indexes = [0, 5, 6, 12]
        proof = [mth(hashes[lo:hi]) for lo, hi in multi_proof(indexes, 13)]
        leaves = [(i, hashes[i]) for i in indexes]
        self.assertTrue(verify.verify_multi_inclusion(13, leaves, proof, root))
        self.assertFalse(verify.verify_multi_inclusion(13, leaves, proof[:-1], root))
        self.assertFalse(verify.verify_multi_inclusion(13, leaves, proof + [root], root))
        self.assertFalse(verify.verify_multi_inclusion(13, leaves[::-1], proof, root))
        self.assertFalse(verify.verify_multi_inclusion(13, [(1, hashes[0])] + leaves[1:], proof, root))
        self.assertFalse(verify.verify_multi_inclusion(14, leaves, proof, mth(hashes + [hashes[0]])))
        self.assertTrue(verify.verify_multi_inclusion(0, [], [], verify.EMPTY_TREE_ROOT))


class CommandLineTest(unittest.TestCase):
    def setUp(self) -> None:
        self.signer = Signer()
        self.data, self.hashes = tree(12)
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.key = self.write("log.key", self.signer.key_text + "\n")

    def write(self, name: str, content: str | dict) -> str:
        path = Path(self.dir.name) / name
        text = json.dumps(content, indent=2) if isinstance(content, dict) else content
        path.write_text(text, encoding="utf-8")
        return str(path)

    def run_main(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = verify.main(list(argv))
        return code, out.getvalue(), err.getvalue()

    def assertOk(self, *argv: str) -> str:
        code, out, err = self.run_main(*argv)
        self.assertEqual((code, err), (0, ""), out)
        self.assertEqual(len(out.splitlines()), 1)
        self.assertTrue(out.startswith("ok "), out)
        return out

    def assertFailed(self, *argv: str) -> str:
        code, out, err = self.run_main(*argv)
        self.assertEqual((code, out), (1, ""))
        self.assertTrue(err.startswith("FAILED: "), err)
        return err

    def test_checkpoint(self) -> None:
        note = self.write("cp.note", self.signer.sign(checkpoint_text(ORIGIN, self.hashes)))
        out = self.assertOk("checkpoint", "--key", self.key, note)
        self.assertIn(f"origin={ORIGIN} tree_size=12 root={b64(mth(self.hashes))}", out)
        self.assertOk("checkpoint", "--key", self.key, "--origin", ORIGIN, note)
        self.assertFailed("checkpoint", "--key", self.key, "--origin", ORIGIN + "/archived", note)
        other = self.write("other.key", Signer(ORIGIN).key_text)
        self.assertFailed("checkpoint", "--key", other, note)
        self.assertFailed("checkpoint", "--key", self.key, str(Path(self.dir.name) / "missing"))

    def test_inclusion(self) -> None:
        doc = inclusion_doc(self.signer, self.data, self.hashes, 3, 12)
        out = self.assertOk("inclusion", "--key", self.key, self.write("p.json", doc))
        self.assertIn("leaf_index=3", out)
        doc["proof"][1] = flip_b64(doc["proof"][1])
        self.assertFailed("inclusion", "--key", self.key, self.write("bad.json", doc))
        self.assertFailed("inclusion", "--key", self.key, self.write("junk.json", "{not json"))

    def test_consistency(self) -> None:
        old = self.write("r.json", receipt_doc(self.signer, self.hashes[:5], [4]))
        old_note = self.write("old.note", self.signer.sign(checkpoint_text(ORIGIN, self.hashes[:5])))
        doc = consistency_doc(self.signer, self.hashes, 5, 12)
        new = self.write("c.json", doc)
        out = self.assertOk("consistency", "--key", self.key, "--old", old, new)
        self.assertIn("old_size=5 new_size=12", out)
        self.assertOk("consistency", "--key", self.key, "--old", old_note, new)
        doc["proof"][0] = flip_b64(doc["proof"][0])
        self.assertFailed("consistency", "--key", self.key, "--old", old, self.write("bad.json", doc))

    def test_receipt(self) -> None:
        doc = receipt_doc(self.signer, self.hashes, [10, 11])
        out = self.assertOk("receipt", "--key", self.key, self.write("r.json", doc))
        self.assertIn("leaf_indexes=10,11", out)
        doc["receipt"]["leaf_indexes"] = [12]
        self.assertFailed("receipt", "--key", self.key, self.write("bad.json", doc))

    def test_manifest(self) -> None:
        signer = Signer(MANIFEST_KEY_NAME)
        key = self.write("manifest.key", signer.key_text + "\n")
        text = manifest_text(signer, 12, [3, 4, 10])
        out = self.assertOk("manifest", "--key", key, self.write("m.jsonl", text))
        self.assertIn("events=3 origin=auditlog.local/acme tree_size=12", out)
        lines = text.splitlines()
        self.assertFailed("manifest", "--key", key, self.write("cut.jsonl", "\n".join(lines[:-1])))
        self.assertFailed("manifest", "--key", self.key, self.write("m2.jsonl", text))

    def test_script_entry_point(self) -> None:
        note = self.write("cp.note", self.signer.sign(checkpoint_text(ORIGIN, self.hashes)))
        done = subprocess.run(
            [sys.executable, str(HERE / "verify.py"), "checkpoint", "--key", self.key, note],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(done.stdout.startswith("ok checkpoint "))
        bad_key = self.write("bad.key", "nonsense")
        done = subprocess.run(
            [sys.executable, str(HERE / "verify.py"), "checkpoint", "--key", bad_key, note],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(done.returncode, 1)
        self.assertTrue(done.stderr.startswith("FAILED: "))


if __name__ == "__main__":
    unittest.main()
