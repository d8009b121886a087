/** AES-256 sized: HKDF could stretch a shorter master key, but not add the entropy it lacks. */
export const MASTER_KEY_BYTES = 32;

/** A key ring that cannot be used. Messages name keys by position only: they end up in logs. */
export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

/**
 * Checks an ordered list of master keys: the first seals, every one opens. A repeated key is
 * refused because it usually means a rotation went wrong (the new key pasted over the old one),
 * which would leave the ring sealing with a key believed retired.
 */
export function assertValidKeyRing(keys: readonly Buffer[]): void {
  if (keys.length === 0) throw new KeyRingError('The key ring is empty: at least one key is needed.');
  keys.forEach((key, index) => {
    const position = index + 1;
    // A string would be accepted by HKDF as key material, so the run-time type is checked too.
    if (!Buffer.isBuffer(key)) throw new KeyRingError(`Key ${position} of the key ring is not a Buffer.`);
    if (key.length !== MASTER_KEY_BYTES) {
      throw new KeyRingError(
        `Key ${position} of the key ring is ${key.length} bytes long; keys must be ${MASTER_KEY_BYTES} bytes.`,
      );
    }
    const first = keys.findIndex((other) => other.equals(key));
    if (first < index) throw new KeyRingError(`Key ${position} of the key ring repeats key ${first + 1}.`);
  });
}

/** The ring of `keys` option entries, base64 strings (each may hold a comma-separated ring) read. */
export function keyRingOf(keys: readonly (Buffer | string)[]): Buffer[] {
  const ring = keys.flatMap((key) => (typeof key === 'string' ? parseKeyRing(key) : [key]));
  assertValidKeyRing(ring);
  return ring;
}

/**
 * Reads a key ring written as comma-separated base64 keys, newest first (as in the
 * `SIGNALR_KEYS` environment variable). Both base64 alphabets are accepted, padded or not.
 */
export function parseKeyRing(text: string): Buffer[] {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => entry === '')) {
    throw new KeyRingError('The key ring is empty: expected a comma-separated list of base64 keys.');
  }
  const keys = entries.map((entry, index) => decodeKey(entry, index + 1));
  assertValidKeyRing(keys);
  return keys;
}

function decodeKey(entry: string, position: number): Buffer {
  if (entry === '') throw new KeyRingError(`Key ${position} of the key ring is empty (a stray comma?).`);
  const key = Buffer.from(entry, 'base64');
  // Node's decoder silently skips characters it does not know: only a text that re-encodes to
  // itself is base64, rather than a mistyped key that happens to decode to 32 bytes.
  const canonical = key.toString('base64');
  const standard = entry.replaceAll('-', '+').replaceAll('_', '/');
  // Padding is optional; base64 has '=' nowhere but at the end.
  if (standard !== canonical && standard !== canonical.replaceAll('=', '')) {
    throw new KeyRingError(`Key ${position} of the key ring is not valid base64.`);
  }
  return key;
}
