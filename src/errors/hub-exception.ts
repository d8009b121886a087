/**
 * An error whose message is meant for the caller. Anything else thrown by a hub method reaches
 * the client only as a generic message, so that internals never leak.
 */
export class HubException extends Error {
  override readonly name = 'HubException';
}
