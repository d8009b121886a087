import { folderConfig } from './folder-config.mjs';

// The HTTP faces: their own specs, the e2e suite, the flow-control spec of the HTTP transports, and
// the security e2e specs, which are where the transports' refusals (admission, connection tokens,
// origins, caps, refresh) are tested. The WebSocket flow-control specs (test/flow's others) are
// left out: they exercise src/connection, and each surviving mutant reran them.
export default folderConfig('transport', [
  'test/transport/**/*.spec.ts',
  'test/e2e/**/*.spec.ts',
  'test/flow/http-transport-flow.e2e.spec.ts',
  'test/security/*.e2e.spec.ts',
]);
