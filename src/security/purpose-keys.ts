import { hkdfSync } from 'node:crypto';

/** Public and fixed: it keeps these keys apart from any other use of the same master key. */
const HKDF_SALT = 'nestjs-signalr/v1';
const ENCRYPTION_KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;

/**
 * Purposes are names fixed in code. Past this many, one is coming from input, which would grow
 * the cache without bound; failing loudly exposes that mistake.
 */
const MAX_PURPOSES = 64;

export interface PurposeKey {
  /** Written into tokens so that `open` goes straight to the key instead of trying each one. */
  readonly id: Buffer;
  readonly encryptionKey: Buffer;
}

export interface PurposeKeys {
  readonly sealing: PurposeKey;
  /** Every key of the ring, by the hex of its id. */
  readonly byId: ReadonlyMap<string, PurposeKey>;
}

/**
 * One AES key per master key and purpose, so that a token sealed for one purpose can never be
 * opened as another. The id is a one-way fingerprint of the purpose key: it names the key
 * without revealing it, and differs between purposes so ids do not link them either.
 */
export function derivePurposeKey(masterKey: Buffer, purpose: string): PurposeKey {
  const encryptionKey = Buffer.from(hkdfSync('sha256', masterKey, HKDF_SALT, purpose, ENCRYPTION_KEY_BYTES));
  const id = Buffer.from(hkdfSync('sha256', encryptionKey, HKDF_SALT, 'key-id', KEY_ID_BYTES));
  return { id, encryptionKey };
}

/** Seal and open sit on the connection path: each purpose is derived once, then reused. */
export class PurposeKeyCache {
  private readonly byPurpose = new Map<string, PurposeKeys>();

  constructor(private readonly masterKeys: readonly Buffer[]) {}

  forPurpose(purpose: string): PurposeKeys {
    const cached = this.byPurpose.get(purpose);
    if (cached) return cached;
    if (typeof purpose !== 'string' || purpose === '') throw new TypeError('A token purpose must be a non-empty string.');
    if (this.byPurpose.size >= MAX_PURPOSES) {
      throw new RangeError(`More than ${MAX_PURPOSES} token purposes: purposes must be fixed names, not input.`);
    }
    const derived = this.masterKeys.map((masterKey) => derivePurposeKey(masterKey, purpose));
    const keys: PurposeKeys = {
      sealing: derived[0],
      byId: new Map(derived.map((key) => [key.id.toString('hex'), key])),
    };
    this.byPurpose.set(purpose, keys);
    return keys;
  }
}
