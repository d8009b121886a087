import { expect } from 'vitest';
import type { ObservedCase } from './dotnet.js';

/** What a case of a C# test program is expected to observe: a value, or the text of the error it met. */
export type CaseExpectation = { value: unknown } | { error: string };

export function expectCase(observed: ObservedCase | undefined, expectation: CaseExpectation): void {
  expect(observed, 'the C# program reported this case').toBeDefined();
  expect(observed).toEqual({ case: observed!.case, ...expectation });
}
