import { folderConfig } from './folder-config.mjs';

// The fuzz specs at a fiftieth of their runs and time limits (FUZZ_SCALE, test/fuzz/fuzz-support.ts):
// at full size they take 40 s, and every protocol mutant is covered by them. A broken line
// the fuzzers notice at all shows up in their first runs; the unit specs run in full.
process.env.FUZZ_SCALE ??= '0.02';

export default folderConfig('protocol', ['test/protocol/**/*.spec.ts', 'test/fuzz/*-protocol.fuzz.spec.ts']);
