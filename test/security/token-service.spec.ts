import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRingError, parseKeyRing } from '../../src/security/key-ring.js';
import { TokenService } from '../../src/security/token-service.js';

const PURPOSE = 'connection';
const PAYLOAD = { connectionId: 'c-1', user: 'alice', expiresAt: 1_900_000_000_000 };

const newKey = (): Buffer => randomBytes(32);
const keyIdOf = (token: string): Buffer => Buffer.from(token, 'base64url').subarray(1, 9);

/** The documented format, written out independently of the service, to pin it down. */
function handSealedToken(masterKey: Buffer, purpose: string, plaintext: string, version = 1): string {
  const purposeKey = Buffer.from(hkdfSync('sha256', masterKey, 'nestjs-signalr/v1', purpose, 32));
  const keyId = Buffer.from(hkdfSync('sha256', purposeKey, 'nestjs-signalr/v1', 'key-id', 8));
  const header = Buffer.concat([Buffer.of(version), keyId]);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', purposeKey, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.concat([header, Buffer.from(purpose)]));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([header, iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
}

/** Seals padded payloads until the token's last character carries spare bits the decoder drops. */
function tokenWithSpareBits(service: TokenService): string {
  for (let padding = 0; ; padding++) {
    const token = service.seal(PURPOSE, { ...PAYLOAD, padding: 'x'.repeat(padding) });
    if (token.length % 4 !== 0) return token;
  }
}

function keyRingErrorOf(text: string): KeyRingError {
  try {
    parseKeyRing(text);
  } catch (error) {
    if (error instanceof KeyRingError) return error;
    throw error;
  }
  throw new Error('parseKeyRing accepted the key ring');
}

describe('TokenService', () => {
  describe('seal and open', () => {
    it('opens what it sealed', () => {
      const service = new TokenService([newKey()]);
      expect(service.open(PURPOSE, service.seal(PURPOSE, PAYLOAD))).toEqual(PAYLOAD);
    });

    it('writes URL-safe base64 without padding that survives a query string unchanged', () => {
      const service = new TokenService([newKey()]);
      for (let i = 0; i < 50; i++) {
        const token = service.seal(PURPOSE, { ...PAYLOAD, padding: 'x'.repeat(i) });
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(encodeURIComponent(token)).toBe(token);
      }
    });

    it('seals the same payload differently each time (random IV)', () => {
      const service = new TokenService([newKey()]);
      const tokens = new Set(Array.from({ length: 100 }, () => service.seal(PURPOSE, PAYLOAD)));
      expect(tokens.size).toBe(100);
    });

    it('keeps the payload confidential', () => {
      const service = new TokenService([newKey()]);
      const token = service.seal(PURPOSE, { secret: 'correct horse battery staple' });
      expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('correct horse');
    });

    it('opens a token built independently to the documented format', () => {
      const key = newKey();
      const service = new TokenService([key]);
      expect(service.open(PURPOSE, handSealedToken(key, PURPOSE, JSON.stringify(PAYLOAD)))).toEqual(PAYLOAD);
    });

    it('writes a key id that is not the key and differs between purposes', () => {
      const key = newKey();
      const service = new TokenService([key]);
      const connectionKeyId = keyIdOf(service.seal('connection', PAYLOAD));
      expect(keyIdOf(service.seal('connection', PAYLOAD))).toEqual(connectionKeyId);
      expect(keyIdOf(service.seal('groups', PAYLOAD))).not.toEqual(connectionKeyId);
      expect(key.includes(connectionKeyId)).toBe(false);
    });

    it('refuses to seal what would not open as an object', () => {
      const service = new TokenService([newKey()]);
      const notObjects = [[1, 2], new Date(0), { toJSON: () => 'text' }, null];
      for (const payload of notObjects) {
        expect(() => service.seal(PURPOSE, payload as unknown as Record<string, unknown>)).toThrow(
          new TypeError('Only an object serializing to a JSON object can be sealed.'),
        );
      }
    });

    it('opens the smallest payload, the empty object', () => {
      const service = new TokenService([newKey()]);
      expect(service.open(PURPOSE, service.seal(PURPOSE, {}))).toEqual({});
    });

    it('seals payloads up to the token length limit and refuses larger ones', () => {
      const service = new TokenService([newKey()]);
      let largest = '';
      for (let size = 2900; ; size++) {
        try {
          largest = service.seal(PURPOSE, { filler: 'x'.repeat(size) });
        } catch (error) {
          // 3035 bytes of JSON and 37 of framing are 3072 bytes: 4096 characters of base64.
          expect(error).toEqual(new RangeError(`The payload is ${size + 13} bytes of JSON; a token holds at most 3035.`));
          break;
        }
      }
      expect(largest).toHaveLength(TokenService.maxTokenLength);
      expect(service.open(PURPOSE, largest)).toBeDefined();
    });

    it('throws for an empty purpose, or one that is not text, a programming error', () => {
      const service = new TokenService([newKey()]);
      expect(() => service.seal('', PAYLOAD)).toThrow(new TypeError('A token purpose must be a non-empty string.'));
      expect(() => service.open('', 'token')).toThrow(TypeError);
      expect(() => service.open(42 as unknown as string, 'token')).toThrow(new TypeError('A token purpose must be a non-empty string.'));
    });

    it('refuses an unbounded number of purposes, which would mean purposes come from input', () => {
      const service = new TokenService([newKey()]);
      for (let i = 0; i < 64; i++) expect(service.open(`purpose-${i}`, 'token')).toBeUndefined();
      expect(() => service.open('purpose-64', 'token')).toThrow(
        new RangeError('More than 64 token purposes: purposes must be fixed names, not input.'),
      );
      expect(service.open('purpose-0', 'token')).toBeUndefined();
    });
  });

  describe('key rotation', () => {
    it('opens tokens sealed with an older key after a new key is prepended', () => {
      const [oldKey, newerKey] = [newKey(), newKey()];
      const token = new TokenService([oldKey]).seal(PURPOSE, PAYLOAD);
      const rotated = new TokenService([newerKey, oldKey]);
      expect(rotated.open(PURPOSE, token)).toEqual(PAYLOAD);
    });

    it('seals with the first key only', () => {
      const [oldKey, newerKey] = [newKey(), newKey()];
      const token = new TokenService([newerKey, oldKey]).seal(PURPOSE, PAYLOAD);
      expect(new TokenService([newerKey]).open(PURPOSE, token)).toEqual(PAYLOAD);
      expect(new TokenService([oldKey]).open(PURPOSE, token)).toBeUndefined();
    });

    it('no longer opens tokens sealed with a key removed from the ring', () => {
      const [first, second, third] = [newKey(), newKey(), newKey()];
      const token = new TokenService([first]).seal(PURPOSE, PAYLOAD);
      expect(new TokenService([third, second]).open(PURPOSE, token)).toBeUndefined();
    });

    it('does not open tokens of a different key ring', () => {
      const token = new TokenService([newKey()]).seal(PURPOSE, PAYLOAD);
      expect(new TokenService([newKey(), newKey()]).open(PURPOSE, token)).toBeUndefined();
    });

    it('keeps its own copy of the keys', () => {
      const key = newKey();
      const service = new TokenService([key]);
      const token = service.seal(PURPOSE, PAYLOAD);
      key.fill(0);
      expect(service.open(PURPOSE, token)).toEqual(PAYLOAD);
    });
  });

  describe('open rejects', () => {
    const key = newKey();
    const service = new TokenService([key]);
    const token = service.seal(PURPOSE, PAYLOAD);
    const bytes = Buffer.from(token, 'base64url');

    it('a token sealed for another purpose', () => {
      expect(service.open('groups', token)).toBeUndefined();
      expect(service.open('connection ', token)).toBeUndefined();
      expect(service.open(PURPOSE, service.seal('groups', PAYLOAD))).toBeUndefined();
    });

    it('every single-bit flip of every byte', () => {
      for (let index = 0; index < bytes.length; index++) {
        for (let bit = 0; bit < 8; bit++) {
          const tampered = Buffer.from(bytes);
          tampered[index] ^= 1 << bit;
          expect(service.open(PURPOSE, tampered.toString('base64url')), `byte ${index} bit ${bit}`).toBeUndefined();
        }
      }
    });

    it('every character replaced by another of the alphabet', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      for (let index = 0; index < token.length; index++) {
        const replacement = alphabet[(alphabet.indexOf(token[index]) + 1 + (index % 63)) % alphabet.length];
        const tampered = token.slice(0, index) + replacement + token.slice(index + 1);
        expect(service.open(PURPOSE, tampered), `character ${index}`).toBeUndefined();
      }
    });

    it('every truncation, of the text and of the bytes', () => {
      for (let length = 0; length < token.length; length++) {
        expect(service.open(PURPOSE, token.slice(0, length)), `${length} characters`).toBeUndefined();
      }
      for (let length = 0; length < bytes.length; length++) {
        const truncated = bytes.subarray(0, length).toString('base64url');
        expect(service.open(PURPOSE, truncated), `${length} bytes`).toBeUndefined();
      }
    });

    it('bytes appended', () => {
      expect(service.open(PURPOSE, Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'))).toBeUndefined();
      expect(service.open(PURPOSE, token + token)).toBeUndefined();
    });

    it('another version byte, even with authentic encryption', () => {
      expect(service.open(PURPOSE, handSealedToken(key, PURPOSE, JSON.stringify(PAYLOAD), 2))).toBeUndefined();
      expect(service.open(PURPOSE, handSealedToken(key, PURPOSE, JSON.stringify(PAYLOAD), 0))).toBeUndefined();
    });

    it('an unknown key id', () => {
      const foreign = Buffer.concat([bytes.subarray(0, 1), randomBytes(8), bytes.subarray(9)]);
      expect(service.open(PURPOSE, foreign.toString('base64url'))).toBeUndefined();
    });

    it('an authentic payload that is not a JSON object', () => {
      for (const plaintext of ['[1,2]', 'null', '42', '"text"', 'true', '{"unterminated":', '', '\u0000']) {
        expect(service.open(PURPOSE, handSealedToken(key, PURPOSE, plaintext)), plaintext).toBeUndefined();
      }
    });

    it('re-encodings: padding, the standard alphabet, whitespace, spare bits', () => {
      const spare = tokenWithSpareBits(service);
      expect(service.open(PURPOSE, spare)).toBeDefined();
      const padded = spare + '='.repeat(4 - (spare.length % 4));
      const lastIndex = spare.length - 1;
      // The decoder ignores the low bits of a final partial character: flipping one keeps the bytes.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const spareBitFlipped = spare.slice(0, lastIndex) + alphabet[alphabet.indexOf(spare[lastIndex]) ^ 1];
      expect(Buffer.from(spareBitFlipped, 'base64url')).toEqual(Buffer.from(spare, 'base64url'));

      const standardAlphabet = Buffer.from(spare, 'base64url').toString('base64');
      const reEncodings = [padded, standardAlphabet, spareBitFlipped, ` ${spare}`, `${spare}\n`, `${spare.slice(0, 10)} ${spare.slice(10)}`];
      for (const reEncoded of reEncodings) {
        expect(reEncoded).not.toBe(spare);
        expect(service.open(PURPOSE, reEncoded), JSON.stringify(reEncoded)).toBeUndefined();
      }
    });

    it('the standard alphabet wherever the token holds - or _', () => {
      const withUrlChars = Array.from({ length: 50 }, () => service.seal(PURPOSE, PAYLOAD)).filter((t) => /[-_]/.test(t));
      expect(withUrlChars.length).toBeGreaterThan(0);
      for (const urlSafe of withUrlChars) {
        expect(service.open(PURPOSE, urlSafe.replaceAll('-', '+').replaceAll('_', '/'))).toBeUndefined();
      }
    });

    it('garbage, the empty string and non-strings', () => {
      const garbage = ['', ' ', '=', '.', 'null', '{}', 'AAAA', 'A'.repeat(64), '____', '\u0000', 'ü'.repeat(40), '%41%41'];
      for (let length = 1; length < 200; length += 7) garbage.push(randomBytes(length).toString('base64url'));
      for (const text of garbage) expect(service.open(PURPOSE, text), JSON.stringify(text)).toBeUndefined();
      expect(service.open(PURPOSE, [token] as unknown as string)).toBeUndefined();
      expect(service.open(PURPOSE, undefined as unknown as string)).toBeUndefined();
    });

    it('strings over the length limit, without decoding them', () => {
      const justOver = token + 'A'.repeat(TokenService.maxTokenLength + 1 - token.length);
      expect(service.open(PURPOSE, justOver)).toBeUndefined();
      expect(service.open(PURPOSE, 'A'.repeat(50_000_000))).toBeUndefined();
      // Authentic but longer than seal would ever write: only the length bound refuses it.
      const oversized = handSealedToken(key, PURPOSE, JSON.stringify({ filler: 'x'.repeat(3100) }));
      expect(oversized.length).toBeGreaterThan(TokenService.maxTokenLength);
      expect(service.open(PURPOSE, oversized)).toBeUndefined();
    });
  });

  describe('generated keys', () => {
    it('generates distinct 32-byte keys', () => {
      const [a, b] = [TokenService.generateKey(), TokenService.generateKey()];
      expect(a).toHaveLength(32);
      expect(a.equals(b)).toBe(false);
    });

    it('tells whether the ring holds a generated key', () => {
      const generated = TokenService.generateKey();
      expect(new TokenService([generated]).usesGeneratedKey).toBe(true);
      expect(new TokenService([newKey(), generated]).usesGeneratedKey).toBe(true);
      expect(new TokenService([newKey()]).usesGeneratedKey).toBe(false);
      // The same bytes read back from configuration are a durable key.
      expect(new TokenService(parseKeyRing(generated.toString('base64'))).usesGeneratedKey).toBe(false);
    });
  });

  describe('constructor', () => {
    it('refuses an empty ring, keys of the wrong size, repeated keys and non-Buffers', () => {
      const key = newKey();
      expect(() => new TokenService([])).toThrow(/empty/);
      expect(() => new TokenService([randomBytes(16)])).toThrow(/16 bytes/);
      expect(() => new TokenService([key, randomBytes(33)])).toThrow(/Key 2 .* 33 bytes/);
      expect(() => new TokenService([key, newKey(), Buffer.from(key)])).toThrow(/Key 3 .* repeats key 1/);
      expect(() => new TokenService(['k'.repeat(32) as unknown as Buffer])).toThrow(/not a Buffer/);
      expect(() => new TokenService([])).toThrow(KeyRingError);
      expect(() => new TokenService([])).toThrow(expect.objectContaining({ name: 'KeyRingError' }));
    });
  });
});

describe('parseKeyRing', () => {
  const [first, second] = [newKey(), newKey()];

  it('reads comma-separated base64 keys in order, trimming spaces and line breaks', () => {
    expect(parseKeyRing(first.toString('base64'))).toEqual([first]);
    expect(parseKeyRing(` ${first.toString('base64')} ,\n${second.toString('base64')}\n`)).toEqual([first, second]);
  });

  it('accepts both alphabets, padded or not', () => {
    // 0xfb bytes encode as '+/v7' in the standard alphabet, '-_v7' in the URL-safe one: both differ.
    for (const key of [first, Buffer.alloc(32, 0xfb)]) {
      for (const text of [key.toString('base64'), key.toString('base64url'), key.toString('base64').replace(/=+$/, '')]) {
        expect(parseKeyRing(text)).toEqual([key]);
      }
    }
  });

  it('says a ring of nothing but commas and spaces is empty, rather than name an empty key', () => {
    for (const text of ['', ' , ', ',']) {
      expect(keyRingErrorOf(text).message).toBe('The key ring is empty: expected a comma-separated list of base64 keys.');
    }
  });

  it('reads an unpadded key of the wrong size as base64 and reports its size', () => {
    expect(keyRingErrorOf(randomBytes(16).toString('base64url')).message).toBe(
      'Key 1 of the key ring is 16 bytes long; keys must be 32 bytes.',
    );
  });

  it('gives a ring that seals and opens', () => {
    const service = new TokenService(parseKeyRing(`${first.toString('base64')},${second.toString('base64')}`));
    expect(service.open(PURPOSE, service.seal(PURPOSE, PAYLOAD))).toEqual(PAYLOAD);
  });

  it('refuses bad rings with messages that never repeat key material', () => {
    const good = first.toString('base64');
    const short = randomBytes(16).toString('base64');
    const long = randomBytes(48).toString('base64');
    const mistyped = `${good.slice(0, 10)}!${good.slice(11)}`;
    const cases: Array<[text: string, message: RegExp, secrets: string[]]> = [
      ['', /empty/, []],
      [' , ', /empty/, []],
      [short, /Key 1 .* 16 bytes/, [short]],
      [`${good},${long}`, /Key 2 .* 48 bytes/, [good, long]],
      [mistyped, /Key 1 .* not valid base64/, [mistyped]],
      [`${good},${good.slice(0, 20)} ${good.slice(20)}`, /Key 2 .* not valid base64/, [good]],
      [`${good}===`, /not valid base64/, [good]],
      [`${good},,${second.toString('base64')}`, /Key 2 .* empty/, [good]],
      [`${good},`, /Key 2 .* empty/, [good]],
      [`${good},${second.toString('base64')},${first.toString('base64url')}`, /Key 3 .* repeats key 1/, [good]],
    ];
    for (const [text, message, secrets] of cases) {
      const error = keyRingErrorOf(text);
      expect(error.message, JSON.stringify(text)).toMatch(message);
      for (const secret of secrets) {
        // Any sizeable fragment of a key in a message would be a leak, not just the whole key.
        for (let start = 0; start + 8 <= secret.length; start += 4) {
          expect(error.message).not.toContain(secret.slice(start, start + 8));
        }
      }
    }
  });
});
