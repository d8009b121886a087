import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type RequestOptions, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * Starts `server` on 127.0.0.1, sends it one request over `protocol` (method, path and headers
 * from `init`, and `init.body` written chunk by chunk) and returns what `judge` said of that
 * request, judged while its socket is open. A judge may cut the request's socket: the client's
 * failure is then expected, and the verdict still counts.
 */
export async function judgeRealRequest<T>(
  server: Server,
  protocol: 'http' | 'https',
  init: Pick<RequestOptions, 'method' | 'path' | 'headers'> & { readonly body?: readonly string[] },
  judge: (request: IncomingMessage) => T | Promise<T>,
): Promise<T> {
  let verdict: { value: T } | { error: unknown } | undefined;
  let judged: Promise<void> | undefined;
  server.on('request', (request: IncomingMessage, response) => {
    judged = (async () => {
      try {
        verdict = { value: await judge(request) };
      } catch (error) {
        verdict = { error };
      }
      response.writeHead(204).end();
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const send = protocol === 'https' ? httpsRequest : httpRequest;
    // The certificate is self-signed: this client only needs the server's side of TLS.
    const { body, ...options } = init;
    const request = send({ ...options, host: '127.0.0.1', port, rejectUnauthorized: false });
    for (const chunk of body ?? []) request.write(chunk);
    request.end();
    try {
      const [response] = (await once(request, 'response')) as [IncomingMessage];
      response.resume();
      await once(response, 'end');
    } catch (error) {
      if (!judged) throw error;
      await judged;
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
  if (verdict === undefined) throw new Error('the server saw no request');
  if ('error' in verdict) throw verdict.error;
  return verdict.value;
}
