// `husk-runc ps ID [ps-args]`: the container's processes, as runc prints them: `--format
// json` a JSON list of host pids; else ps(1)'s output (default `-ef`) cut to the lines whose
// PID column is one of them. The pids come from the container's cgroup (every process in
// it and below), read from the kernel.
import { spawnSync } from 'node:child_process';
import { RuncError } from './args.js';
import type { RuncCommand } from './args.js';
import { mustRead, statusOf } from './state.js';

export async function containerPids(dirs: readonly string[]): Promise<number[]> {
  const { cgroupHost } = await import('../cgroup/host.js');
  const host = await cgroupHost();
  return host.processes(host.dirsOf(dirs));
}

export async function psCommand(root: string, cmd: Extract<RuncCommand, { name: 'ps' }>): Promise<number> {
  const st = mustRead(root, cmd.id);
  if (statusOf(root, st) === 'stopped') throw new RuncError('container is not running');
  const pids = await containerPids(st.cgroupDirs);
  if (cmd.format === 'json') {
    process.stdout.write(`${JSON.stringify(pids)}\n`);
    return 0;
  }
  const args = cmd.psArgs.length > 0 ? cmd.psArgs : ['-ef'];
  const ps = spawnSync('ps', args, { encoding: 'utf8' });
  if (ps.error !== undefined) throw new RuncError(`ps: cannot run ps(1): ${(ps.error as NodeJS.ErrnoException).code ?? ps.error.message}`);
  if (ps.status !== 0) throw new RuncError(`ps ${args.join(' ')}: ${ps.stderr.trim() || `exit status ${ps.status}`}`);
  const lines = ps.stdout.split('\n').filter((l) => l !== '');
  const header = lines[0] ?? '';
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column < 0) throw new RuncError(`ps ${args.join(' ')}: no PID column in its output`);
  const wanted = new Set(pids);
  process.stdout.write(`${header}\n`);
  for (const line of lines.slice(1)) {
    const pid = Number(line.trim().split(/\s+/)[column]);
    if (wanted.has(pid)) process.stdout.write(`${line}\n`);
  }
  return 0;
}
