/**
 * An error whose message is meant for the caller. Anything else thrown by a hub method reaches
 * the client only as a generic message, so that internals never leak.
 */
export class HubException extends Error {
  override readonly name = 'HubException';

  constructor(
    message?: string,
    /**
     * Data for the caller beside the message, as classic SignalR's `HubException.ErrorData`: a
     * classic (jQuery) client receives it as the error's `data` (`D`). The modern protocol has no
     * field for it, so modern clients see the message only. JSON-serializable.
     */
    readonly data?: unknown,
  ) {
    super(message);
  }
}
