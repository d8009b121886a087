export * from './hub-message.js';
export type { HubProtocol, TransferFormat } from './hub-protocol.js';
export { ProtocolError } from './protocol-error.js';
export { RECORD_SEPARATOR, RECORD_SEPARATOR_CODE, decodeUtf8, splitRecords, toRecord } from './text-message-format.js';
export {
  HANDSHAKE_SUCCESS,
  handshakeError,
  parseHandshakeRequest,
  type HandshakeRequest,
  type ParsedHandshake,
} from './handshake.js';
export { parseJsonSafely } from './safe-json.js';
export { MAX_INVOCATION_ID_LENGTH } from './message-fields.js';
export { DEFAULT_MAX_JSON_DEPTH, JsonHubProtocol, type JsonHubProtocolOptions } from './json-hub-protocol.js';
export {
  DEFAULT_MAX_MESSAGEPACK_DEPTH,
  MESSAGEPACK_PING_FRAME,
  MessagePackHubProtocol,
  type MessagePackHubProtocolOptions,
} from './messagepack-hub-protocol.js';
