import { folderConfig } from './folder-config.mjs';

// A connection's life shows end to end: its own specs, flow control, reconnects and the e2e suite.
export default folderConfig('connection', [
  'test/connection/**/*.spec.ts',
  'test/flow/**/*.spec.ts',
  'test/reconnect/**/*.spec.ts',
  'test/e2e/**/*.spec.ts',
]);
