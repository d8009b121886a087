// One Stryker configuration per source folder: the folder's files are mutated and only the listed specs run
// against them, so a score says how well those specs (not the whole suite) notice a broken line.
export function folderConfig(folder, testFiles) {
  return {
    mutate: [`src/${folder}/**/*.ts`, `!src/${folder}/**/index.ts`],
    testFiles,
    testRunner: 'vitest',
    vitest: { configFile: 'vitest.config.ts', related: false },
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.json',
    coverageAnalysis: 'perTest',
    // A static mutant (a module-level constant) runs the folder's whole suite, e2e specs included:
    // 18 s each on security against about 1 s for a covered one. They are listed as ignored.
    ignoreStatic: true,
    // Two cores shared with other work: one test process at a time.
    concurrency: 1,
    timeoutMS: 10_000,
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: `reports/mutation/${folder}/index.html` },
    jsonReporter: { fileName: `reports/mutation/${folder}/mutation.json` },
    incrementalFile: `stryker/incremental/${folder}.json`,
    ignorePatterns: ['dist', 'reports', 'bench/results', 'test-results', 'coverage'],
    tempDirName: `.stryker-tmp/${folder}`,
    cleanTempDir: 'always',
  };
}
