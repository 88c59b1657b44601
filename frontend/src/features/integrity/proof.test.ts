import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkEventProof,
  hashLeaf,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  verifyInclusion,
  verifyNote,
  type EventProof,
  type ProofResult,
} from './proof';
import {
  buildLog,
  checkpointText,
  eventAt,
  fromBase64,
  fromHex,
  inclusionPath,
  leafHashOf,
  leafV1,
  leafV2,
  makeSigner,
  SIGNED_AT,
  sha256,
  toBase64,
  toHex,
  treeHash,
  type TestSigner,
} from './testProofs';

/** The RFC 6962 reference leaves and roots (certificate-transparency's test vectors). */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  fromHex,
);
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  {
    index: 0,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const ORIGIN = 'activity.example/log';

function flipByte(base64: string, at = 0): string {
  const bytes = fromBase64(base64);
  bytes[at] ^= 0x01;
  return toBase64(bytes);
}

/** A verifier key's name, key ID and base64 key (which may itself contain plus signs). */
function splitKey(verifierKey: string): [string, string, string] {
  const [name, id, ...key] = verifierKey.split('+');
  return [name, id, key.join('+')];
}

function expectFailure(result: ProofResult, reason: string | RegExp) {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.reason).toMatch(reason);
}

let signer: TestSigner;

beforeAll(async () => {
  signer = await makeSigner(ORIGIN);
});

describe('the test tree builder', () => {
  it('computes the RFC 6962 reference roots', async () => {
    const hashes = await Promise.all(CT_LEAVES.map((leaf) => leafHashOf(leaf)));
    expect(toHex(await treeHash([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (let n = 1; n <= 8; n++) expect(toHex(await treeHash(hashes.slice(0, n))), `size ${n}`).toBe(CT_ROOTS[n - 1]);
  });

  it('computes the RFC 6962 reference inclusion paths', async () => {
    const hashes = await Promise.all(CT_LEAVES.map((leaf) => leafHashOf(leaf)));
    for (const { index, proof } of CT_INCLUSION) expect((await inclusionPath(index, hashes)).map(toHex)).toEqual(proof);
  });
});

describe('verifyInclusion', () => {
  it('accepts the RFC 6962 reference proofs', async () => {
    for (const { index, proof } of CT_INCLUSION) {
      const leafHash = await hashLeaf(CT_LEAVES[index]);
      expect(await verifyInclusion(index, 8, leafHash, proof.map(fromHex), fromHex(CT_ROOTS[7]))).toBe(true);
    }
  });

  it('accepts the proof of every leaf in trees of 1 to 17 leaves, and nothing nearby', async () => {
    for (let size = 1; size <= 17; size++) {
      const log = await buildLog(size, signer);
      for (let index = 0; index < size; index++) {
        const proof = await inclusionPath(index, log.leafHashes);
        const leaf = log.leafHashes[index];
        const at = `leaf ${index} of ${size}`;
        expect(await verifyInclusion(index, size, leaf, proof, log.root), at).toBe(true);
        // Another leaf, position or path does not lead to the same root. (Another tree size may: the
        // path alone does not fix it, which is why the size checked is the signed one.)
        expect(await verifyInclusion(index, size, log.leafHashes[(index + 1) % size], proof, log.root), at).toBe(size === 1);
        if (size > 1) expect(await verifyInclusion((index + 1) % size, size, leaf, proof, log.root), at).toBe(false);
        if (proof.length > 0) {
          expect(await verifyInclusion(index, size, leaf, proof.slice(1), log.root), at).toBe(false);
          const flipped = proof.map((p, i) => (i === proof.length - 1 ? fromBase64(flipByte(toBase64(p), 31)) : p));
          expect(await verifyInclusion(index, size, leaf, flipped, log.root), at).toBe(false);
        }
        expect(await verifyInclusion(index, size, leaf, [...proof, log.root], log.root), at).toBe(false);
      }
    }
  });

  it('refuses an index outside the tree and hashes of the wrong length', async () => {
    const log = await buildLog(4, signer);
    const proof = await inclusionPath(3, log.leafHashes);
    expect(await verifyInclusion(4, 4, log.leafHashes[3], proof, log.root)).toBe(false);
    expect(await verifyInclusion(-1, 4, log.leafHashes[3], proof, log.root)).toBe(false);
    expect(await verifyInclusion(0, 0, log.leafHashes[0], [], log.root)).toBe(false);
    expect(await verifyInclusion(3, 4, log.leafHashes[3].slice(1), proof, log.root)).toBe(false);
  });

  it('refuses a path shorter or longer than the tree needs, even when it hashes to the root given', async () => {
    const log = await buildLog(2, signer);
    const proof = await inclusionPath(0, log.leafHashes);
    // The proof for a tree of 2, claimed for a tree of 3: it ends below the root.
    expect(await verifyInclusion(0, 2, log.leafHashes[0], proof, log.root)).toBe(true);
    expect(await verifyInclusion(0, 3, log.leafHashes[0], proof, log.root)).toBe(false);
    // One more step above the root of a tree of 2.
    const extra = new Uint8Array(32).fill(9);
    const above = await sha256(Uint8Array.of(0x01), extra, log.root);
    expect(await verifyInclusion(0, 2, log.leafHashes[0], [...proof, extra], above)).toBe(false);
  });
});

describe('parseVerifierKey', () => {
  it('reads the name, key ID and public key, ignoring a trailing newline', async () => {
    const key = await parseVerifierKey(`${signer.verifierKey}\n`);
    expect(key.name).toBe(ORIGIN);
    expect(key.keyId.toString(16).padStart(8, '0')).toBe(signer.keyId);
    expect(toBase64(Uint8Array.of(0x01, ...key.publicKey))).toBe(splitKey(signer.verifierKey)[2]);
  });

  it('refuses malformed keys and a key ID that is not the hash of the name and key', async () => {
    const [name, id, key] = splitKey(signer.verifierKey);
    const wrongId = ((Number.parseInt(id, 16) + 1) >>> 0).toString(16).padStart(8, '0');
    await expect(parseVerifierKey(`${name}+${wrongId}+${key}`)).rejects.toThrow('ID does not match');
    await expect(parseVerifierKey(`${name}+ABCDEF01+${key}`)).rejects.toThrow('invalid key ID');
    await expect(parseVerifierKey(`${name}+${id}0+${key}`)).rejects.toThrow('invalid key ID');
    await expect(parseVerifierKey(`${name}+${id}`)).rejects.toThrow('not a verifier key');
    await expect(parseVerifierKey(`+${id}+${key}`)).rejects.toThrow('invalid name');
    await expect(parseVerifierKey(`a b+${id}+${key}`)).rejects.toThrow('invalid name');
    await expect(parseVerifierKey(`${name}+${id}+${toBase64(Uint8Array.of(0x02, ...fromBase64(key).slice(1)))}`)).rejects.toThrow(
      'not an Ed25519',
    );
    await expect(parseVerifierKey(`${name}+${id}+${key.slice(0, -4)}`)).rejects.toThrow('not an Ed25519');
  });
});

describe('signed notes', () => {
  const text = `${ORIGIN}\n3\n${toBase64(new Uint8Array(32))}\n`;

  it('splits the text from the signatures at the last blank line', async () => {
    const other = await makeSigner('witness.example/w1');
    const note = parseNote(`${await signer.sign(text)}${await other.signatureLine(text)}`);
    expect(note.text).toBe(text);
    expect(note.signatures.map((s) => s.name)).toEqual([ORIGIN, 'witness.example/w1']);
    expect(note.signatures.map((s) => s.signature.length)).toEqual([64, 64]);
    expect(parseNote(`a\n\nb\n\n${await signer.signatureLine('a\n\nb\n')}`).text).toBe('a\n\nb\n');
  });

  it('refuses malformed notes', async () => {
    const line = await signer.signatureLine(text);
    expect(() => parseNote(text)).toThrow('no signatures');
    expect(() => parseNote(`${text}\n`)).toThrow('malformed');
    expect(() => parseNote(`${text}\n${line.slice(0, -1)}`)).toThrow('malformed');
    expect(() => parseNote(`${text}\n${line.replace('\u2014', '-')}`)).toThrow('malformed');
    expect(() => parseNote(`${text}\n\u2014 ${ORIGIN} AAAA\n`)).toThrow('malformed');
    expect(() => parseNote(`${text.replace('\n', '\r\n')}\n${line}`)).toThrow('control characters');
  });

  it('verifies the signature of the key, ignoring other keys, and rejects a bad one', async () => {
    const key = await parseVerifierKey(signer.verifierKey);
    const other = await makeSigner('witness.example/w1');
    const sameNameOtherKey = await makeSigner(ORIGIN);
    expect(await verifyNote(parseNote(await signer.sign(text)), key)).toBe('verified');
    expect(await verifyNote(parseNote(`${await other.sign(text)}${await signer.signatureLine(text)}`), key)).toBe('verified');
    expect(await verifyNote(parseNote(await other.sign(text)), key)).toBe('unsigned');
    expect(await verifyNote(parseNote(await sameNameOtherKey.sign(text)), key)).toBe('unsigned');
    // A signature line naming the key whose signature is cut short.
    const [signed] = parseNote(await signer.sign(text)).signatures;
    expect(await verifyNote({ text, signatures: [{ ...signed, signature: signed.signature.slice(0, 63) }] }, key)).toBe(
      'invalid',
    );
    // Signed with the right name and key ID, by another private key.
    const impostor = await makeSigner(ORIGIN, signer.keyId);
    expect(await verifyNote(parseNote(await impostor.sign(text)), key)).toBe('invalid');
    expect(await verifyNote(parseNote(await signer.sign(text)), key)).toBe('verified');
    expect(
      await verifyNote({ text: text.replace('3', '4'), signatures: parseNote(await signer.sign(text)).signatures }, key),
    ).toBe('invalid');
  });
});

describe('parseCheckpoint', () => {
  const root = new Uint8Array(32).fill(7);

  it('reads the origin, tree size and root hash', () => {
    expect(parseCheckpoint(checkpointText(ORIGIN, 20852163, root))).toEqual({
      origin: ORIGIN,
      treeSize: 20852163,
      rootHash: root,
    });
    expect(parseCheckpoint(checkpointText(ORIGIN, 0, root)).treeSize).toBe(0);
  });

  it('refuses anything else', () => {
    const b64 = toBase64(root);
    expect(() => parseCheckpoint(`${ORIGIN}\n5\n${b64}\nextension\n`)).toThrow('three lines');
    expect(() => parseCheckpoint(`${ORIGIN}\n5\n${b64}`)).toThrow('three lines');
    expect(() => parseCheckpoint(`\n5\n${b64}\n`)).toThrow('no origin');
    expect(() => parseCheckpoint(`${ORIGIN}\n05\n${b64}\n`)).toThrow('tree size');
    expect(() => parseCheckpoint(`${ORIGIN}\n-5\n${b64}\n`)).toThrow('tree size');
    expect(() => parseCheckpoint(`${ORIGIN}\n9007199254740993\n${b64}\n`)).toThrow('tree size');
    expect(() => parseCheckpoint(`${ORIGIN}\n5\n${toBase64(root.slice(1))}\n`)).toThrow('root hash');
    expect(() => parseCheckpoint(`${ORIGIN}\n5\n${b64.slice(0, -1)}\n`)).toThrow('root hash');
    // The same bytes in a base64 that is not the canonical one (padding bits set).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = b64.at(-2) ?? '';
    const noncanonical = `${b64.slice(0, -2)}${alphabet[alphabet.indexOf(last) + 1]}=`;
    expect(fromBase64(noncanonical)).toEqual(root);
    expect(() => parseCheckpoint(`${ORIGIN}\n5\n${noncanonical}\n`)).toThrow('root hash');
  });
});

describe('checkEventProof', () => {
  const check = (proof: unknown, event = eventAt(2), verifierKey = signer.verifierKey) =>
    checkEventProof({ proof, verifierKey, event });

  it('proves every event of logs of 1 to 17 events', async () => {
    for (let size = 1; size <= 17; size++) {
      const log = await buildLog(size, signer);
      for (let index = 0; index < size; index++) {
        expect(await check(await log.proofOf(index), eventAt(index)), `event ${index} of ${size}`).toEqual({
          ok: true,
          treeSize: size,
          signedAt: SIGNED_AT,
          origin: ORIGIN,
          keyName: ORIGIN,
          keyId: signer.keyId,
          contentDeleted: false,
        });
      }
    }
  });

  it('proves events recorded with format 1 leaves, which do not name the action', async () => {
    const log = await buildLog(5, signer, { leafOf: leafV1 });
    expect(await check(await log.proofOf(2), { ...eventAt(2), action: 'anything' })).toMatchObject({ ok: true, treeSize: 5 });
  });

  it("proves a deleted entry's place in the log from its leaf hash alone", async () => {
    const log = await buildLog(5, signer);
    for (let index = 0; index < 5; index++) {
      const proof = { ...(await log.proofOf(index)), leaf: null };
      const event = { ...eventAt(index), hash: toHex(log.leafHashes[index]) };
      expect(await check(proof, event), `event ${index}`).toMatchObject({ ok: true, treeSize: 5, contentDeleted: true });
    }
    // The leaf may also be left out altogether; without the entry's hash, only the position is checked.
    const withoutLeaf: Record<string, unknown> = { ...(await log.proofOf(2)) };
    delete withoutLeaf.leaf;
    expect(await check(withoutLeaf)).toMatchObject({ ok: true, contentDeleted: true });
  });

  it("fails on a deleted entry's proof whose leaf hash is not the entry's or not in the signed tree", async () => {
    const log = await buildLog(5, signer);
    const proof = { ...(await log.proofOf(2)), leaf: null };
    // The entry's hash is compared with the proven leaf hash (in either case of hex).
    expect(await check(proof, { ...eventAt(2), hash: toHex(log.leafHashes[2]).toUpperCase() })).toMatchObject({ ok: true });
    expectFailure(
      await check(proof, { ...eventAt(2), hash: toHex(log.leafHashes[3]) }),
      "The proof's leaf hash is not this entry's hash.",
    );
    // Another leaf's hash, or a leaf hash that is no leaf of the tree, does not lead to the signed root.
    expectFailure(
      await check({ ...proof, leaf_hash: toBase64(log.leafHashes[3]) }),
      'The proof does not lead to the signed root.',
    );
    const forged = flipByte(proof.leaf_hash, 5);
    expectFailure(
      await check({ ...proof, leaf_hash: forged }, { ...eventAt(2), hash: toHex(fromBase64(forged)) }),
      'The proof does not lead to the signed root.',
    );
    // Nor does the right leaf hash at another position.
    expectFailure(
      await check({ ...proof, leaf_index: 1 }),
      'The proof places the event at position 1, not at 2 as its sequence says.',
    );
    expectFailure(await check({ ...proof, leaf_hash: 'not base64' }), "The server's proof response is malformed.");
    expectFailure(await check({ ...proof, leaf: 7 }), "The server's proof response is malformed.");
  });

  it('fails on a key that is not a verifier key', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    expectFailure(await check(proof, eventAt(2), 'not a key'), 'The public key is not a verifier key (name+id+key).');
  });

  it('fails on a malformed response', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    expectFailure(await check(null), "The server's proof response is malformed.");
    expectFailure(await check({ ...proof, proof: [1, 2] }), "The server's proof response is malformed.");
    expectFailure(await check({ ...proof, checkpoint: { ...proof.checkpoint, note: undefined } }), 'malformed');
    expectFailure(await check({ ...proof, proof: ['AAAA'] }), "The server's proof response is malformed.");
  });

  it('fails on a tampered signature', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    const note = proof.checkpoint.note;
    const [body, line] = [note.slice(0, note.lastIndexOf('\u2014')), note.slice(note.lastIndexOf('\u2014'), -1)];
    const signature = line.slice(line.lastIndexOf(' ') + 1);
    const tampered = `${body}${line.slice(0, line.lastIndexOf(' ') + 1)}${flipByte(signature, 10)}\n`;
    const result = await check({ ...proof, checkpoint: { ...proof.checkpoint, note: tampered } });
    expectFailure(result, 'The signature does not match the public key.');
  });

  it('fails on a checkpoint signed by another key', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    // Same name, another key (so another key ID): the signature is not by the trusted key at all.
    expectFailure(await check(await (await buildLog(5, await makeSigner(ORIGIN))).proofOf(2)), 'not signed by the public key');
    // The trusted key's name and ID, but another private key.
    const impostor = await makeSigner(ORIGIN, signer.keyId);
    expectFailure(await check(await (await buildLog(5, impostor)).proofOf(2)), 'The signature does not match the public key.');
    // The right proof, checked with another key.
    expectFailure(await check(proof, eventAt(2), (await makeSigner(ORIGIN)).verifierKey), 'not signed by the public key');
  });

  it('fails on a signed note that is not a checkpoint', async () => {
    const log = await buildLog(5, signer);
    const proof = await log.proofOf(2);
    const note = await signer.sign(`${checkpointText(ORIGIN, 5, log.root)}extension\n`);
    expectFailure(await check({ ...proof, checkpoint: { ...proof.checkpoint, note } }), /not three lines/);
  });

  it('fails when the response disagrees with the checkpoint it signed', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    const cp = proof.checkpoint;
    const disagrees = "The server's response disagrees with the checkpoint it signed";
    expectFailure(await check({ ...proof, checkpoint: { ...cp, tree_size: 6 } }), `${disagrees} (tree size).`);
    expectFailure(await check({ ...proof, tree_size: 4 }), `${disagrees} (tree size).`);
    expectFailure(
      await check({ ...proof, checkpoint: { ...cp, root_hash: flipByte(cp.root_hash) } }),
      `${disagrees} (root hash).`,
    );
    expectFailure(await check({ ...proof, checkpoint: { ...cp, root_hash: 'AAAA' } }), `${disagrees} (root hash).`);
    expectFailure(await check({ ...proof, checkpoint: { ...cp, origin: 'elsewhere.example/log' } }), `${disagrees} (origin).`);
  });

  it('fails on a flipped proof byte', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    for (let i = 0; i < proof.proof.length; i++) {
      const path = proof.proof.map((p, j) => (i === j ? flipByte(p, 17) : p));
      expectFailure(await check({ ...proof, proof: path }), 'The proof does not lead to the signed root.');
    }
    expectFailure(await check({ ...proof, proof: proof.proof.slice(1) }), 'The proof does not lead to the signed root.');
  });

  it('fails on a leaf that does not match its hash', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    expectFailure(
      await check({ ...proof, leaf: proof.leaf.replace('"tenant":1', '"tenant":2') }),
      "The proof's leaf does not match its hash.",
    );
    expectFailure(await check({ ...proof, leaf_hash: flipByte(proof.leaf_hash) }), "The proof's leaf does not match its hash.");
  });

  it('fails on a leaf that is not in the signed tree', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    // A well-formed leaf for this very event, with its own hash, that the log never recorded.
    const leaf = leafV2(eventAt(2)).replace('"tenant":1', '"tenant":2');
    const forged = { ...proof, leaf, leaf_hash: toBase64(await leafHashOf(leaf)) };
    expectFailure(await check(forged), 'The proof does not lead to the signed root.');
  });

  it("fails on another event's proof", async () => {
    const log = await buildLog(5, signer);
    // A real proof, of the event after this one.
    expectFailure(
      await check(await log.proofOf(3)),
      `The proof is for another event (#${eventAt(3).id}), not #${eventAt(2).id}.`,
    );
  });

  it('fails on a leaf naming another event id, sequence or action', async () => {
    const proof = await (await buildLog(5, signer)).proofOf(2);
    const withLeaf = async (leaf: string): Promise<EventProof> => ({
      ...proof,
      leaf,
      leaf_hash: toBase64(await leafHashOf(leaf)),
    });
    const event = eventAt(2);
    expectFailure(
      await check(await withLeaf(leafV2({ ...event, id: 9 }))),
      `The proof is for another event (#9), not #${event.id}.`,
    );
    expectFailure(
      await check(await withLeaf(leafV2({ ...event, seq: 4 }))),
      "The proof's leaf has sequence 4, but this event has sequence 3.",
    );
    expectFailure(
      await check(await withLeaf(leafV2({ ...event, action: 'booking.deleted' }))),
      `The proof's leaf records the action booking.deleted, but this event shows ${event.action}.`,
    );
    expectFailure(await check(await withLeaf(leafV1({ ...event, id: 9 }))), 'The proof is for another event (#9)');
    expectFailure(await check(await withLeaf('{"v":3,"id":1}')), /format this page does not know \(v = 3\)/);
    expectFailure(await check(await withLeaf('not json')), "The proof's leaf is not valid JSON.");
  });

  it('fails when the leaf index is not the position of the sequence', async () => {
    const log = await buildLog(5, signer);
    const proof = await log.proofOf(2);
    expectFailure(
      await check({ ...proof, leaf_index: 1 }),
      'The proof places the event at position 1, not at 2 as its sequence says.',
    );
    // An event after the signed checkpoint cannot be proven by it.
    const event = eventAt(6);
    const leaf = leafV2(event);
    const beyond = { ...proof, leaf_index: 6, leaf, leaf_hash: toBase64(await leafHashOf(leaf)) };
    expectFailure(await check(beyond, event), 'The event is not in the signed checkpoint.');
  });
});
