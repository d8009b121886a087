import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DOCUMENTS = ['README.md', 'docs/architecture.md', 'bench/README.md'];

/** Spec files a document names, as `folder/name.spec.ts` relative to `test/` or with `test/` in front. */
function namedSpecs(document: string): string[] {
  const text = readFileSync(document, 'utf8');
  const names = [...text.matchAll(/`(?:test\/)?(\w[\w./-]*\.spec\.ts)`/g)].map((match) => match[1]);
  return [...new Set(names)];
}

describe('the documents name only tests that exist', () => {
  it.each(DOCUMENTS)('%s', (document) => {
    const named = namedSpecs(document);
    expect(named.filter((spec) => !existsSync(`test/${spec}`))).toEqual([]);
  });

  it('finds the security table\'s references, so that the check above checks something', () => {
    expect(namedSpecs('README.md').length).toBeGreaterThan(20);
  });
});
