import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { childEnv } from './child-env.js';

const run = promisify(execFile);

/** Neither telemetry nor a first-run banner, and no build servers left running after a build. */
export const DOTNET_ENV = childEnv({ DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1', MSBUILDDISABLENODEREUSE: '1' });

/**
 * Builds a project under test/ once per run (MSBuild's own incremental build makes a repeat
 * cheap); its output goes to a folder under the temporary directory. Resolves with the program's DLL.
 */
export async function buildDotnetProject(projectUnderTest: string, configuration: 'Debug' | 'Release' = 'Debug'): Promise<string> {
  const project = fileURLToPath(new URL(`../${projectUnderTest}`, import.meta.url));
  const output = join(tmpdir(), 'nestjs-signalr-dotnet', `${basename(project)}-${configuration}`);
  // vitest.config.ts leaves these suites out where dotnet is missing, except under CI: say why they fail there.
  await run('dotnet', ['build', project, '-c', configuration, '-o', output, '-m:1', '--disable-build-servers', '-v:q', '-nologo'], {
    env: DOTNET_ENV,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? new Error('the .NET suites need the .NET SDK (dotnet on PATH)') : error;
  });
  return join(output, `${basename(project)}.dll`);
}

/** What a C# test program observed in one case: one JSON line of its `Report` (test/dotnet/InteropClient/Report.cs). */
export interface ObservedCase {
  readonly case: string;
  readonly value?: unknown;
  readonly error?: string;
}

/** Runs a built test program to its end; resolves with its cases by name. */
export async function runDotnetCases(dll: string, args: readonly string[]): Promise<Map<string, ObservedCase>> {
  const { stdout } = await run('dotnet', [dll, ...args], { env: DOTNET_ENV, maxBuffer: 16 * 1024 * 1024 });
  const observed = new Map<string, ObservedCase>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as ObservedCase;
    observed.set(entry.case, entry);
  }
  return observed;
}
