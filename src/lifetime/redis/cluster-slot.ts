/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes names with, one byte at a time. */
const CRC16_TABLE = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The hash slot (0 to 16383) of a key or shard channel, as Redis Cluster computes it: the CRC16
 * of its UTF-8 bytes, or of its hash tag, the bytes between the first `{` and the first `}` after
 * it when they are not empty. Group names are the application's, so a group called `{x}` lands
 * in the slot of `x`, as Redis itself will place it.
 */
export function clusterSlot(name: string): number {
  const bytes = Buffer.from(name);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(OPEN_BRACE);
  if (open !== -1) {
    const close = bytes.indexOf(CLOSE_BRACE, open + 1);
    if (close > open + 1) [start, end] = [open + 1, close];
  }
  let crc = 0;
  for (let index = start; index < end; index++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[index]) & 0xff];
  return crc & 0x3fff;
}
