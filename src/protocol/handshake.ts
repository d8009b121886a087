import { isJsonObject, ownField } from './json-object.js';
import { ProtocolError } from './protocol-error.js';
import { parseJsonSafely } from './safe-json.js';
import { decodeUtf8, RECORD_SEPARATOR_CODE, toRecord } from './text-message-format.js';

export interface HandshakeRequest {
  readonly protocol: string;
  readonly version: number;
}

export interface ParsedHandshake {
  readonly request: HandshakeRequest;
  /** Bytes after the handshake in the same frame: the first messages, already in the chosen protocol. */
  readonly remaining: Buffer;
}

/** The request is a flat object; the headroom lets a client add a field of its own, not a bomb. */
const HANDSHAKE_MAX_DEPTH = 4;

/** Sent as is for every protocol: MessagePack connections receive it in a binary frame. */
export const HANDSHAKE_SUCCESS = toRecord('{}');

export function handshakeError(message: string): string {
  return toRecord(JSON.stringify({ error: message }));
}

/**
 * Reads the handshake at the start of `frame`. It is JSON text whatever protocol it asks for.
 * Returns undefined while no separator has arrived: the caller buffers and bounds the size.
 */
export function parseHandshakeRequest(frame: Buffer): ParsedHandshake | undefined {
  const end = frame.indexOf(RECORD_SEPARATOR_CODE);
  if (end === -1) return undefined;
  const value = parseJsonSafely(decodeUtf8(frame.subarray(0, end)), HANDSHAKE_MAX_DEPTH);
  if (!isJsonObject(value)) {
    throw new ProtocolError('Handshake request must be a JSON object.');
  }
  const protocol = ownField(value, 'protocol');
  const version = ownField(value, 'version');
  if (typeof protocol !== 'string') {
    throw new ProtocolError("Handshake request: 'protocol' must be a string.");
  }
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    throw new ProtocolError("Handshake request: 'version' must be an integer.");
  }
  return { request: { protocol, version }, remaining: frame.subarray(end + 1) };
}
