import { folderConfig } from './folder-config.mjs';

// A connection's life: its own specs, flow control and reconnects. The generic e2e suite (test/e2e) is left
// out: with it every surviving mutant reran about 300 tests, so no run of the folder could finish; the specs
// kept are the ones written against this folder's flow-control, liveness and resumption code.
export default folderConfig('connection', [
  'test/connection/**/*.spec.ts',
  'test/flow/**/*.spec.ts',
  'test/reconnect/**/*.spec.ts',
]);
