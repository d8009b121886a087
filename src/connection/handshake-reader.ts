import { closeErrors } from '../errors/invocation-errors.js';
import { parseHandshakeRequest } from '../protocol/handshake.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';

export type HandshakeOutcome =
  /** The request is not complete yet: more frames are needed. */
  | { readonly kind: 'incomplete' }
  /** The handshake fails with this text (ASP.NET Core's words), and the connection with it. */
  | { readonly kind: 'failed'; readonly error: string; readonly detail?: string }
  /** Agreed; `remaining` is what the client sent after its request in the same frame. */
  | { readonly kind: 'agreed'; readonly protocol: HubProtocol; readonly version: number; readonly remaining: Buffer };

/**
 * Reads a client's handshake request, which may span frames, up to the message size limit, and
 * checks the protocol and version it asks for against those the hub speaks, and the protocol's
 * transfer format against what the transport carries.
 */
export class HandshakeReader {
  private buffered: Buffer | undefined;

  constructor(
    private readonly protocols: ReadonlyMap<string, HubProtocol>,
    private readonly maxSize: number,
    /** Server-Sent Events carry text only. */
    private readonly textOnly = false,
  ) {}

  read(frame: Buffer): HandshakeOutcome {
    const buffered = this.buffered ? Buffer.concat([this.buffered, frame]) : frame;
    if (buffered.length > this.maxSize) return { kind: 'failed', error: closeErrors.handshakeCanceled };
    let parsed: ReturnType<typeof parseHandshakeRequest>;
    try {
      parsed = parseHandshakeRequest(buffered);
    } catch (error) {
      return { kind: 'failed', error: closeErrors.handshakeUnexpected, detail: (error as Error).message };
    }
    if (!parsed) {
      this.buffered = buffered;
      return { kind: 'incomplete' };
    }
    this.buffered = undefined;
    const { protocol: name, version } = parsed.request;
    const protocol = this.protocols.get(name);
    if (!protocol) return { kind: 'failed', error: closeErrors.unsupportedProtocol(name) };
    if (version < 1 || version > protocol.version) return { kind: 'failed', error: closeErrors.unsupportedVersion(name, version) };
    if (this.textOnly && protocol.transferFormat === 'Binary') {
      return { kind: 'failed', error: closeErrors.unsupportedTransferFormat(name, protocol.transferFormat) };
    }
    return { kind: 'agreed', protocol, version, remaining: parsed.remaining };
  }
}
