import { folderConfig } from './folder-config.mjs';

// The HTTP faces: their own specs, flow control over every transport and the e2e suite.
export default folderConfig('transport', ['test/transport/**/*.spec.ts', 'test/flow/**/*.spec.ts', 'test/e2e/**/*.spec.ts']);
