import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Builds ASP.NET Core's reference server (test/reference/ReferenceServer) in Release into the
 * temporary directory, once per run; resolves with its DLL, which `servers/aspnetcore.ts` runs.
 */
export function buildAspNetCoreServer(root: string): string {
  const output = join(tmpdir(), 'nestjs-signalr-dotnet', 'ReferenceServer-Release');
  const built = spawnSync(
    'dotnet',
    ['build', join(root, 'test', 'reference', 'ReferenceServer'), '-c', 'Release', '-o', output, '-m:1', '--disable-build-servers', '-v:q', '-nologo'],
    { stdio: 'inherit', env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', MSBUILDDISABLENODEREUSE: '1' } },
  );
  if (built.error || built.status !== 0) throw new Error(`building the ASP.NET Core server failed: ${built.error?.message ?? `exit ${built.status}`}`);
  return join(output, 'ReferenceServer.dll');
}
