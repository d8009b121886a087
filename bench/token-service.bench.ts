import { bench, describe } from 'vitest';
import { TokenService } from '../src/security/token-service.js';

// A ring mid-rotation, and a payload the size of a connection token's.
const service = new TokenService([TokenService.generateKey(), TokenService.generateKey()]);
const payload = { connectionId: 'p1Yv0Jd8i1nBqL0p7H3kVw', user: 'alice', expiresAt: 1_900_000_000_000 };
const token = service.seal('connection', payload);
// One ciphertext bit flipped: the rejection goes all the way through the GCM tag check.
const tamperedBytes = Buffer.from(token, 'base64url');
tamperedBytes[30] ^= 1;
const tampered = tamperedBytes.toString('base64url');

describe('TokenService', () => {
  bench('seal', () => {
    service.seal('connection', payload);
  });

  bench('open (authentic)', () => {
    service.open('connection', token);
  });

  // Forged tokens are what an attacker can send in bulk, so rejecting one must stay cheap too.
  bench('open (tampered)', () => {
    service.open('connection', tampered);
  });
});
