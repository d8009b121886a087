import type { IncomingMessage, ServerResponse } from 'node:http';

// Scripts only from this origin, nothing inline: a stored XSS would have nowhere to run.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Runs before every route, so error pages and 404s carry the headers too. One policy for every
 * answer: a page or a script served under a new route can never go out without it. Negotiate
 * passes it as any route does; refused WebSocket upgrades never reach Express, and the package
 * sets `nosniff` on those itself.
 */
export function securityHeaders(_request: IncomingMessage, response: ServerResponse, next: () => void): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  next();
}
