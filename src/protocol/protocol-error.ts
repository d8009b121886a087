/**
 * Raised by a parser when a frame cannot be read. The connection that sent it is closed:
 * once framing is lost nothing after it can be trusted.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}
