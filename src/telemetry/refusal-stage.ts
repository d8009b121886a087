import type { IncomingMessage } from 'node:http';
import type { RefusalStage } from './meters.js';

const PROXY_FILE = /\/proxy\.(?:js|d\.ts)$/;

/** Which of a hub's requests this is, from its path: a hub's paths match case-insensitively. */
export function refusalStage(request: IncomingMessage): RefusalStage {
  const path = (request.url ?? '').split('?', 1)[0].toLowerCase();
  if (path.endsWith('/negotiate')) return 'negotiate';
  return PROXY_FILE.test(path) ? 'proxy' : 'connect';
}
