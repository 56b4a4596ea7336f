import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { BackendUnavailableError } from '@recipe-kit/core';

export interface ChromaServer {
  host: string;
  port: number;
  /** The server process (its memory is the backend's memory). */
  pid: number;
  directory: string;
  /** The server's output so far (for error messages). */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartChromaServerOptions {
  /** Where Chroma keeps its data. */
  directory: string;
  /** Default: a free port chosen by the OS. */
  port?: number;
  /** How long to wait for the server to answer (default 60 s). */
  timeoutMs?: number;
}

/**
 * Starts a local Chroma server from the npm package alone (`chroma run`, Rust bindings, no Python),
 * listening on 127.0.0.1 only. Fails with the server's own output when it does not come up.
 */
export async function startChromaServer(options: StartChromaServerOptions): Promise<ChromaServer> {
  await mkdir(options.directory, { recursive: true });
  const require = createRequire(import.meta.url);
  let cli: string;
  try {
    // chromadb's exports map hides package.json; its entry point sits in <package>/dist/cjs/.
    let directory = path.dirname(require.resolve('chromadb'));
    while (path.basename(directory) !== 'chromadb' && path.dirname(directory) !== directory) directory = path.dirname(directory);
    cli = path.join(directory, 'dist', 'cli.mjs');
    statSync(cli);
  } catch (error) {
    throw new BackendUnavailableError('The chroma backend needs the chromadb npm package, which is not installed.', 'Run `pnpm install` (chromadb 3.0.4 is a dependency of @recipe-kit/retriever).', { cause: error });
  }
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [cli, 'run', '--path', options.directory, '--host', host, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CHROMA_TELEMETRY: 'false', ANONYMIZED_TELEMETRY: 'false' },
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: ChromaServer = { host, port, pid: child.pid ?? -1, directory: options.directory, log: () => output, stop: () => stopChild(child, exited) };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const response = await fetch(`http://${host}:${port}/api/v2/heartbeat`);
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop();
  throw new BackendUnavailableError(
    `The local Chroma server (chroma run --path ${options.directory} --port ${port}) did not start: ${output.trim().split('\n').slice(-3).join(' | ') || 'no output'}.`,
    'Chroma 3.0.4\'s bindings need glibc ≥ 2.34 on linux-x64; check `node_modules/.bin/chroma run` by hand, or pick another backend (exact, faiss-*, lancedb).',
  );
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
