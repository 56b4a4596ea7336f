import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** sha256 of a file, or of a directory's files (sorted relative paths and contents), streamed. */
export async function hashPath(target: string): Promise<string> {
  const hash = createHash('sha256');
  const files = statSync(target).isDirectory() ? listFiles(target).map((file) => path.join(target, file)) : [target];
  for (const file of files) {
    if (files.length > 1) hash.update(`${path.relative(target, file)}\0`);
    await new Promise<void>((resolve, reject) => {
      createReadStream(file)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', resolve)
        .on('error', reject);
    });
  }
  return hash.digest('hex');
}

function listFiles(directory: string, prefix = ''): string[] {
  return readdirSync(path.join(directory, prefix), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const relative = path.join(prefix, entry.name);
      return entry.isDirectory() ? listFiles(directory, relative) : [relative];
    });
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** The commit of the checkout the code runs from, or null outside a git repository. */
export function gitCommit(directory: string): string | null {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: directory, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** The repository this code runs from (provenance records its commit). */
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The closing provenance fields every training command writes into its `training.json`. */
export function trainingProvenance(seconds: number, backend: string) {
  return {
    seconds: Number(seconds.toFixed(1)),
    backend,
    machine: machineInfo(),
    gitCommit: gitCommit(repositoryRoot),
    date: new Date().toISOString(),
  };
}
