// Connection tokens and access tokens travel in the query string (browsers cannot set headers on
// a WebSocket), so request URLs carry credentials and must be redacted before they are logged.
// Groups tokens (`resume`) are sealed too, but a logged one could be replayed while it lasts.

/** The library's own tokens: the connection token (`id`) and the groups token (`resume`). */
export const LIBRARY_TOKEN_PARAMETERS: ReadonlySet<string> = new Set(['id', 'resume']);
export const ACCESS_TOKEN_PARAMETER = 'access_token';
const SECRET_PARAMETERS = new Set([...LIBRARY_TOKEN_PARAMETERS, ACCESS_TOKEN_PARAMETER]);
export const REDACTED = '[redacted]';

/** The URL with the values of `id`, `access_token` and `resume` replaced, all else kept as received. */
export function redactUrl(url: string | undefined): string {
  if (typeof url !== 'string') return '';
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const query = url.slice(queryStart + 1).split('&').map(redactParameter).join('&');
  return `${url.slice(0, queryStart + 1)}${query}`;
}

function redactParameter(parameter: string): string {
  const equals = parameter.indexOf('=');
  if (equals === -1) return parameter;
  const rawName = parameter.slice(0, equals);
  // Decoded as the server decodes it (URLSearchParams), so 'acc%65ss_token' is caught too.
  const [[name]] = new URLSearchParams(`${rawName}=`);
  return SECRET_PARAMETERS.has(name.toLowerCase()) ? `${rawName}=${REDACTED}` : parameter;
}
