import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { assertValidKeyRing, MASTER_KEY_BYTES } from './key-ring.js';
import { KEY_ID_BYTES, PurposeKeyCache, type PurposeKey } from './purpose-keys.js';
import { pooledRandomBytes } from './random-pool.js';

// Layout: version | key id | IV | ciphertext | GCM tag, in URL-safe base64 without padding.
const FORMAT_VERSION = 1;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const OVERHEAD_BYTES = HEADER_BYTES + IV_BYTES + TAG_BYTES;
/** The shortest payload is `{}`: anything shorter cannot be a token, authentic or not. */
const MIN_TOKEN_BYTES = OVERHEAD_BYTES + '{}'.length;

/** Tokens travel in query strings, which servers and proxies cap at a few KiB. */
const MAX_TOKEN_LENGTH = 4096;
const MAX_PLAINTEXT_BYTES = Math.floor((MAX_TOKEN_LENGTH * 3) / 4) - OVERHEAD_BYTES;

/** Identity, not content, marks a generated key: the same bytes read from configuration are durable. */
const generatedKeys = new WeakSet<Buffer>();

/**
 * Seals small JSON objects into tokens that only this key ring can open, and only for the
 * purpose they were sealed for (AES-256-GCM under a per-purpose HKDF key). The first key of the
 * ring seals; every key opens, so a new key can be prepended and the old one dropped once its
 * tokens have expired. Random 96-bit IVs stay safe for about 2^32 seals per key.
 */
export class TokenService {
  static readonly maxTokenLength = MAX_TOKEN_LENGTH;

  /**
   * True when a key of the ring came from {@link TokenService.generateKey}: it lives only in
   * this process, so tokens die with it and other instances cannot open them.
   */
  readonly usesGeneratedKey: boolean;

  private readonly purposeKeys: PurposeKeyCache;
  /** The header and additional data of each purpose key: the same for every token it seals. */
  private readonly framing = new WeakMap<PurposeKey, Framing>();

  constructor(keys: Buffer[]) {
    assertValidKeyRing(keys);
    this.usesGeneratedKey = keys.some((key) => generatedKeys.has(key));
    // Copies: a caller reusing or wiping its buffers must not change the ring underneath.
    this.purposeKeys = new PurposeKeyCache(keys.map((key) => Buffer.from(key)));
  }

  static generateKey(): Buffer {
    const key = randomBytes(MASTER_KEY_BYTES);
    generatedKeys.add(key);
    return key;
  }

  /** Throws for a payload that does not serialize to a JSON object or would not fit in a token. */
  seal(purpose: string, payload: Record<string, unknown>): string {
    const key = this.purposeKeys.forPurpose(purpose).sealing;
    const { header, additionalData } = this.framingOf(key, purpose);
    const plaintext = serializeObject(payload);
    const iv = pooledRandomBytes(IV_BYTES);
    // GCM's tag is TAG_BYTES (16) long unless asked otherwise.
    const cipher = createCipheriv('aes-256-gcm', key.encryptionKey, iv);
    cipher.setAAD(additionalData);
    // GCM is a stream mode: final() adds no bytes, it computes the tag.
    const ciphertext = cipher.update(plaintext);
    cipher.final();
    return Buffer.concat([header, iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * The payload of an authentic token sealed for `purpose` by a key of the ring, or undefined
   * for anything else. Throws only for an invalid purpose, which is a programming error.
   */
  open<T = Record<string, unknown>>(purpose: string, token: string): T | undefined {
    const keys = this.purposeKeys.forPurpose(purpose);
    // Query values can arrive as arrays at run time, whatever the declared type.
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const bytes = Buffer.from(token, 'base64url');
    // Node's decoder forgives padding, the standard alphabet, stray characters and spare bits;
    // accepting only what seal writes gives every token a single spelling.
    if (bytes.length < MIN_TOKEN_BYTES || bytes.toString('base64url') !== token) return undefined;
    if (bytes[0] !== FORMAT_VERSION) return undefined;
    const key = keys.byId.get(bytes.toString('hex', 1, HEADER_BYTES));
    if (!key) return undefined;
    return openObject(key, bytes, this.framingOf(key, purpose).additionalData) as T | undefined;
  }

  /** `key` was derived for `purpose`, so its framing is cached under the key alone. */
  private framingOf(key: PurposeKey, purpose: string): Framing {
    return this.framing.get(key) ?? this.frame(key, purpose);
  }

  private frame(key: PurposeKey, purpose: string): Framing {
    const header = Buffer.concat([Buffer.of(FORMAT_VERSION), key.id]);
    // The header is authenticated along with the purpose, so neither can be swapped.
    const framing = { header, additionalData: Buffer.concat([header, Buffer.from(purpose, 'utf8')]) };
    this.framing.set(key, framing);
    return framing;
  }
}

interface Framing {
  readonly header: Buffer;
  readonly additionalData: Buffer;
}

function serializeObject(payload: Record<string, unknown>): Buffer {
  // Checked on the text, not the value: a Date or an object with toJSON serializes to a string.
  const json = JSON.stringify(payload) as string | undefined;
  if (json === undefined || !json.startsWith('{')) throw new TypeError('Only an object serializing to a JSON object can be sealed.');
  const plaintext = Buffer.from(json, 'utf8');
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new RangeError(`The payload is ${plaintext.length} bytes of JSON; a token holds at most ${MAX_PLAINTEXT_BYTES}.`);
  }
  return plaintext;
}

/** The JSON object an authentic token holds; undefined when its tag fails or it holds no object. */
function openObject(key: PurposeKey, bytes: Buffer, additionalData: Buffer): Record<string, unknown> | undefined {
  const ivEnd = HEADER_BYTES + IV_BYTES;
  const tagStart = bytes.length - TAG_BYTES;
  // The tag handed over below is always TAG_BYTES long: no authTagLength needed to pin it.
  const decipher = createDecipheriv('aes-256-gcm', key.encryptionKey, bytes.subarray(HEADER_BYTES, ivEnd));
  // The header read from the token is the one the key was found by: version and id are equal.
  decipher.setAAD(additionalData);
  decipher.setAuthTag(bytes.subarray(tagStart));
  // The values JSON.parse returns, undefined not among them: the compiler proves that only a parse
  // that succeeded reaches the check below.
  let value: string | number | boolean | object | null;
  try {
    // update() hands out unauthenticated bytes; they are parsed only once final() has checked the tag.
    const plaintext = decipher.update(bytes.subarray(ivEnd, tagStart));
    decipher.final();
    // Only a token sealed elsewhere with a ring key can fail here: seal never writes anything else.
    value = JSON.parse(plaintext.toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
