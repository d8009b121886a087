import { folderConfig } from './folder-config.mjs';

// The HTTP faces: their own specs, the e2e suite, the flow-control spec of the HTTP transports and the
// refresh endpoint's own spec (it lives with the security specs). The WebSocket flow-control specs
// (test/flow's others) are left out: they exercise src/connection, and each surviving mutant reran them.
export default folderConfig('transport', [
  'test/transport/**/*.spec.ts',
  'test/e2e/**/*.spec.ts',
  'test/flow/http-transport-flow.e2e.spec.ts',
  'test/security/authentication-refresh.e2e.spec.ts',
]);
