import { folderConfig } from './folder-config.mjs';

export default folderConfig('security', [
  'test/security/**/*.spec.ts',
  // The rules the security options are checked by at start-up live in src/security; their spec is here.
  'test/options/module-options-check.spec.ts',
]);
