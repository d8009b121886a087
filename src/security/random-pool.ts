import { randomFillSync } from 'node:crypto';

/** One draw from the CSPRNG serves this many bytes of IVs and ids: about 170 connections' worth. */
const POOL_BYTES = 4096;

let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `size` bytes from the CSPRNG, as `randomBytes` would give them, but drawn in batches: each
 * draw is a call into OpenSSL that costs as much as the bytes of a whole connection's tokens.
 * Every byte is handed out once. The result is a view of a pool that is never refilled: a new
 * pool replaces it, so what was handed out never changes underneath its holder.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(Math.max(POOL_BYTES, size)));
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + size);
  offset += size;
  return bytes;
}
