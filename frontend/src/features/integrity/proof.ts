/**
 * Checks, in the browser, that an event is in the log the server signed:
 *
 * - verifier keys and signed notes as in c2sp.org/signed-note (Ed25519 only);
 * - checkpoints as in c2sp.org/tlog-checkpoint (origin, tree size, root hash);
 * - Merkle inclusion proofs as in RFC 9162 §2.1.3.2.
 *
 * Everything here is pure apart from WebCrypto (`crypto.subtle`), so the server is trusted for
 * nothing but availability: a proof either leads from the event's leaf to a root signed by the
 * public key, or the check fails with a sentence saying which step did not hold.
 */

/** A note verifier key: `<name>+<key id as 8 hex digits>+<base64(0x01 || 32-byte Ed25519 key)>`. */
export interface VerifierKey {
  name: string;
  /** The uint32 key ID the note signatures name. */
  keyId: number;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface NoteSignature {
  /** The key name of the signature line. */
  name: string;
  /** The key ID: the signature's first four bytes, big-endian. */
  keyId: number;
  /** What follows the key ID: for Ed25519, the 64-byte signature. */
  signature: Uint8Array;
}

export interface Note {
  /** The signed text, up to and including its final newline (not the blank line after it). */
  text: string;
  signatures: NoteSignature[];
}

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
}

/**
 * `verified`: the note carries a signature by the key and every such signature is valid.
 * `unsigned`: no signature names the key (name and key ID both).
 * `invalid`: a signature names the key but does not verify.
 */
export type NoteVerification = 'verified' | 'unsigned' | 'invalid';

/** The body of `GET /api/v1/events/{id}/proof`. */
export interface EventProof {
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  /** The leaf bytes; null (or absent) for a deleted entry, whose content is gone. */
  leaf?: string | null;
  proof: string[];
  checkpoint: { note: string; origin: string; tree_size: number; root_hash: string; signed_at: string };
}

/** The event the person is looking at, which the proof's leaf must describe. */
export interface ProvenEvent {
  id: number;
  seq: number;
  action: string;
  /**
   * The entry hash shown for it (hex). When the proof has no leaf (a deleted entry), the proven
   * leaf hash must be this hash, which for such entries is their leaf hash.
   */
  hash?: string;
}

export type ProofResult =
  | {
      ok: true;
      /** The size of the signed tree the event was proven to be in. */
      treeSize: number;
      /** When the server says it signed the checkpoint (RFC 3339; not itself covered by the signature). */
      signedAt: string;
      origin: string;
      /** The verifier key that signed the checkpoint, as `keyName+keyId`. */
      keyName: string;
      keyId: string;
      /**
       * The entry was deleted and the proof carries no leaf: its leaf hash is proven to be in the
       * signed tree at its position, but not what the entry said.
       */
      contentDeleted: boolean;
    }
  | { ok: false; reason: string };

const HASH_SIZE = 32;
const ED25519_TYPE = 0x01;
const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
/** The note spec asks verifiers to accept at least 16 signatures and to bound them. */
const MAX_SIGNATURES = 100;
const SIGNATURE_PREFIX = '\u2014 ';

/** A malformed key, note or checkpoint; the message is fit to show a person. */
export class ProofFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProofFormatError';
  }
}

const encoder = new TextEncoder();

function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concat(...parts)));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Standard base64 with padding (RFC 4648 §4), refusing anything that does not re-encode to itself. */
function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64(bytes) === text ? bytes : null;
}

/** A 32-byte hash from its base64, or null. */
function hashFromBase64(text: string): Uint8Array | null {
  const bytes = fromBase64(text);
  return bytes && bytes.length === HASH_SIZE ? bytes : null;
}

function readUint32(bytes: Uint8Array): number {
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** A key ID as the 8 lowercase hex digits verifier keys spell it with. */
export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** Key names are non-empty and contain neither Unicode spaces nor plus signs. */
function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian. */
async function ed25519KeyId(name: string, publicKey: Uint8Array): Promise<number> {
  return readUint32(await sha256(utf8(name), Uint8Array.of(0x0a, ED25519_TYPE), publicKey));
}

/** Parses a verifier key, checking that its key ID is the one its name and key hash to. */
export async function parseVerifierKey(text: string): Promise<VerifierKey> {
  const trimmed = text.trim();
  const firstPlus = trimmed.indexOf('+');
  const secondPlus = trimmed.indexOf('+', firstPlus + 1);
  if (firstPlus < 0 || secondPlus < 0) throw new ProofFormatError('The public key is not a verifier key (name+id+key).');
  const name = trimmed.slice(0, firstPlus);
  const idHex = trimmed.slice(firstPlus + 1, secondPlus);
  const encoded = fromBase64(trimmed.slice(secondPlus + 1));
  if (!isValidKeyName(name)) throw new ProofFormatError('The public key has an invalid name.');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new ProofFormatError('The public key has an invalid key ID.');
  if (!encoded || encoded.length !== 1 + ED25519_KEY_SIZE || encoded[0] !== ED25519_TYPE) {
    throw new ProofFormatError('The public key is not an Ed25519 verifier key.');
  }
  const publicKey = encoded.slice(1);
  const keyId = Number.parseInt(idHex, 16);
  if ((await ed25519KeyId(name, publicKey)) !== keyId) {
    throw new ProofFormatError("The public key's ID does not match its name and key.");
  }
  return { name, keyId, publicKey };
}

/** Splits a signed note into its text and signature lines; it does not verify anything. */
export function parseNote(text: string): Note {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) throw new ProofFormatError('The signed checkpoint contains control characters.');
  }
  // The text ends at the last blank line; it keeps its own final newline.
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new ProofFormatError('The signed checkpoint has no signatures.');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new ProofFormatError("The signed checkpoint's signatures are malformed.");
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new ProofFormatError('The signed checkpoint has too many signatures.');
  const signatures = lines.map((line): NoteSignature => {
    const space = line.indexOf(' ', SIGNATURE_PREFIX.length);
    const name = line.slice(SIGNATURE_PREFIX.length, space);
    const bytes = fromBase64(line.slice(space + 1));
    if (!line.startsWith(SIGNATURE_PREFIX) || space < 0 || !isValidKeyName(name) || !bytes || bytes.length < 5) {
      throw new ProofFormatError("The signed checkpoint's signatures are malformed.");
    }
    return { name, keyId: readUint32(bytes), signature: bytes.slice(4) };
  });
  return { text: body, signatures };
}

/**
 * Checks the note's signatures by `key`. Signatures by other keys (another name or key ID) are
 * ignored, as the note spec requires; one by this key that fails rejects the whole note.
 */
export async function verifyNote(note: Note, key: VerifierKey): Promise<NoteVerification> {
  const ours = note.signatures.filter((s) => s.name === key.name && s.keyId === key.keyId);
  if (ours.length === 0) return 'unsigned';
  const cryptoKey = await crypto.subtle.importKey('raw', concat(key.publicKey), { name: 'Ed25519' }, false, ['verify']);
  const message = concat(utf8(note.text));
  for (const { signature } of ours) {
    if (signature.length !== ED25519_SIGNATURE_SIZE) return 'invalid';
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, concat(signature), message))) return 'invalid';
  }
  return 'verified';
}

/** Parses a checkpoint body: exactly an origin, a tree size and a base64 root hash, each on its line. */
export function parseCheckpoint(noteText: string): Checkpoint {
  const lines = noteText.split('\n');
  if (lines.length !== 4 || lines[3] !== '') {
    throw new ProofFormatError('The signed checkpoint is not three lines (origin, tree size, root hash).');
  }
  const [origin, size, root] = lines;
  if (origin === '') throw new ProofFormatError('The signed checkpoint has no origin.');
  const treeSize = Number(size);
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(treeSize)) {
    throw new ProofFormatError("The signed checkpoint's tree size is not a number.");
  }
  const rootHash = hashFromBase64(root);
  if (!rootHash) throw new ProofFormatError("The signed checkpoint's root hash is not a base64 SHA-256 hash.");
  return { origin, treeSize, rootHash };
}

/** SHA-256(0x00 || leaf): the hash of a leaf in the tree. */
export function hashLeaf(leaf: Uint8Array): Promise<Uint8Array> {
  return sha256(Uint8Array.of(0x00), leaf);
}

function hashChildren(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(Uint8Array.of(0x01), left, right);
}

const isIndex = (n: number) => Number.isSafeInteger(n) && n >= 0;

/**
 * RFC 9162 §2.1.3.2: whether `proof` leads from the hash of the leaf at `index` in a tree of
 * `size` leaves to `root`. Plain numbers: sizes are below 2^53, so halving is exact.
 */
export async function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  if (!isIndex(index) || !isIndex(size) || index >= size) return false;
  if (leafHash.length !== HASH_SIZE || root.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The proof response if it has the expected shape, else null. */
function asEventProof(value: unknown): EventProof | null {
  if (!isRecord(value) || !isRecord(value.checkpoint)) return null;
  const { leaf_index, tree_size, leaf_hash, leaf, proof, checkpoint: c } = value;
  const wellFormed =
    typeof leaf_index === 'number' &&
    typeof tree_size === 'number' &&
    typeof leaf_hash === 'string' &&
    (leaf == null || typeof leaf === 'string') &&
    Array.isArray(proof) &&
    proof.every((p) => typeof p === 'string') &&
    typeof c.note === 'string' &&
    typeof c.origin === 'string' &&
    typeof c.tree_size === 'number' &&
    typeof c.root_hash === 'string' &&
    typeof c.signed_at === 'string';
  return wellFormed ? (value as unknown as EventProof) : null;
}

function fail(reason: string): ProofResult {
  return { ok: false, reason };
}

/** What the leaf says about the event it records, or a reason it cannot be read. */
function readLeaf(leaf: string): { id: unknown; seq: unknown; action?: unknown } | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(leaf);
  } catch {
    return "The proof's leaf is not valid JSON.";
  }
  if (!isRecord(parsed)) return "The proof's leaf is not a JSON object.";
  if (parsed.v === 1) return { id: parsed.id, seq: parsed.seq };
  if (parsed.v === 2) return { id: parsed.id, seq: parsed.seq, action: parsed.action };
  return `The proof's leaf has a format this page does not know (v = ${JSON.stringify(parsed.v ?? null)}).`;
}

/**
 * Checks an event's inclusion proof against the log's public key, step by step: the key, the
 * checkpoint's signature, the checkpoint against the response's unsigned copies of it, the leaf
 * against its hash and against the event shown (for a deleted entry, which has no leaf any more,
 * the leaf hash against the entry's hash), the leaf's position, and the path to the signed root.
 * Never throws: every failure is a result with a reason.
 */
export async function checkEventProof({
  proof: response,
  verifierKey,
  event,
}: {
  proof: unknown;
  verifierKey: string;
  event: ProvenEvent;
}): Promise<ProofResult> {
  try {
    return await check(response, verifierKey, event);
  } catch (error) {
    if (error instanceof ProofFormatError) return fail(error.message);
    if (error instanceof Error && error.name === 'NotSupportedError') {
      return fail('This browser cannot check Ed25519 signatures; try a current version of your browser.');
    }
    return fail('The proof could not be checked in this browser.');
  }
}

async function check(response: unknown, verifierKey: string, event: ProvenEvent): Promise<ProofResult> {
  const key = await parseVerifierKey(verifierKey);

  const proof = asEventProof(response);
  if (!proof) return fail("The server's proof response is malformed.");

  const note = parseNote(proof.checkpoint.note);
  const verification = await verifyNote(note, key);
  if (verification === 'unsigned') return fail('The checkpoint is not signed by the public key.');
  if (verification === 'invalid') return fail('The signature does not match the public key.');

  const signed = parseCheckpoint(note.text);
  const rootHash = hashFromBase64(proof.checkpoint.root_hash);
  const disagreement =
    signed.origin !== proof.checkpoint.origin
      ? 'origin'
      : signed.treeSize !== proof.checkpoint.tree_size || signed.treeSize !== proof.tree_size
        ? 'tree size'
        : !rootHash || !equalBytes(signed.rootHash, rootHash)
          ? 'root hash'
          : null;
  if (disagreement) return fail(`The server's response disagrees with the checkpoint it signed (${disagreement}).`);

  const leafHash = hashFromBase64(proof.leaf_hash);
  if (!leafHash) return fail("The server's proof response is malformed.");

  // A deleted entry's leaf is gone: only its hash, at the entry's position, can be proven.
  const contentDeleted = proof.leaf == null;
  if (proof.leaf == null) {
    if (event.hash !== undefined && toHex(leafHash) !== event.hash.toLowerCase()) {
      return fail("The proof's leaf hash is not this entry's hash.");
    }
  } else {
    if (!equalBytes(await hashLeaf(utf8(proof.leaf)), leafHash)) return fail("The proof's leaf does not match its hash.");
    const leaf = readLeaf(proof.leaf);
    if (typeof leaf === 'string') return fail(leaf);
    if (leaf.id !== event.id) return fail(`The proof is for another event (#${String(leaf.id)}), not #${event.id}.`);
    if (leaf.seq !== event.seq) {
      return fail(`The proof's leaf has sequence ${String(leaf.seq)}, but this event has sequence ${event.seq}.`);
    }
    if ('action' in leaf && leaf.action !== event.action) {
      return fail(`The proof's leaf records the action ${String(leaf.action)}, but this event shows ${event.action}.`);
    }
  }
  if (proof.leaf_index !== event.seq - 1) {
    return fail(`The proof places the event at position ${proof.leaf_index}, not at ${event.seq - 1} as its sequence says.`);
  }
  if (proof.leaf_index >= signed.treeSize) return fail('The event is not in the signed checkpoint.');

  const path = proof.proof.map(hashFromBase64);
  if (path.some((p) => p === null)) return fail("The server's proof response is malformed.");
  if (!(await verifyInclusion(proof.leaf_index, signed.treeSize, leafHash, path as Uint8Array[], signed.rootHash))) {
    return fail('The proof does not lead to the signed root.');
  }

  return {
    ok: true,
    treeSize: signed.treeSize,
    signedAt: proof.checkpoint.signed_at,
    origin: signed.origin,
    keyName: key.name,
    keyId: formatKeyId(key.keyId),
    contentDeleted,
  };
}
