import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './tarball.js';

/**
 * onnxruntime-node's postinstall downloads the CUDA execution provider from outside the npm registry on linux/x64;
 * `skip` keeps the install to the registry (and CPU), as a CPU-only user would install it.
 */
export const INSTALL_ENV = { ONNXRUNTIME_NODE_INSTALL: 'skip' } as const;

/** Installs `specs` (tarball paths or registry names) with npm into `dir`, an empty folder, as a user's project. */
export async function npmInstall(dir: string, specs: readonly string[]): Promise<void> {
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'install-check', private: true, type: 'module' }, null, 2)}\n`,
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    cwd: dir,
    env: { ...process.env, ...INSTALL_ENV },
  });
}

export interface InstalledPackage {
  name: string;
  version: string;
  /** Relative to the project folder, e.g. `node_modules/@img/sharp-linux-x64`. */
  path: string;
}

/** Every package under `node_modules` (nested `node_modules` included), read from the folders npm wrote. */
export async function installedPackages(projectDir: string): Promise<InstalledPackage[]> {
  const found: InstalledPackage[] = [];
  async function visit(nodeModules: string): Promise<void> {
    let entries: string[];
    try {
      entries = (await readdir(join(projectDir, nodeModules), { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .map((entry) => entry.name);
    } catch {
      return;
    }
    const dirs: string[] = [];
    for (const entry of entries) {
      if (entry.startsWith('@')) {
        const scoped = await readdir(join(projectDir, nodeModules, entry), { withFileTypes: true });
        dirs.push(...scoped.filter((e) => e.isDirectory()).map((e) => `${entry}/${e.name}`));
      } else {
        dirs.push(entry);
      }
    }
    for (const dir of dirs) {
      const path = `${nodeModules}/${dir}`;
      try {
        const manifest = JSON.parse(await readFile(join(projectDir, path, 'package.json'), 'utf8')) as {
          name: string;
          version: string;
        };
        found.push({ name: manifest.name, version: manifest.version, path });
      } catch {
        continue; // a folder without package.json is no package
      }
      await visit(`${path}/node_modules`);
    }
  }
  await visit('node_modules');
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** Disk usage of a folder in bytes, as `du -sk` reports it (blocks in use, not apparent size). */
export async function diskUsage(dir: string): Promise<number> {
  const stdout = await run('du', ['-sk', dir]);
  return Number.parseInt(stdout, 10) * 1024;
}

/** `123.4 MB`, in decimal megabytes as npm and the registry report sizes. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
