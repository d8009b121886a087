import { folderConfig } from './folder-config.mjs';

export default folderConfig('security', ['test/security/**/*.spec.ts']);
