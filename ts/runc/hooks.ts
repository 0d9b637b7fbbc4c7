// config.json's hooks that husk-runc runs itself, in the runtime's namespaces (the core has
// checked each: absolute path, timeout ≥ 1 s; createContainer and startContainer, which run in
// the container's namespaces, are the launcher's HOOK ops):
//   prestart, createRuntime  at create (and run), at the plan's HOOK_SYNC: the container's
//                            mounts are made, before its createContainer hooks and pivot_root
//                            (runc's order); a failure cancels the container
//   poststart                at start, once the process was released
//   poststop                 at delete, once the container and its cgroups are gone
// Each gets the OCI state JSON on stdin, its args (args[0] as argv[0]) and env (none given:
// husk-runc's), and is killed after its timeout. A hook that fails is one line naming it.
import { spawnSync } from 'node:child_process';
import type { HookKind, OciHook } from '../core/oci-plan.js';
import { RuncError } from './args.js';

export type Hooks = Partial<Record<HookKind, OciHook[]>>;

const OUTPUT_MAX = 4096;

function envOf(env: string[] | undefined): NodeJS.ProcessEnv {
  if (env === undefined) return process.env;
  const out: NodeJS.ProcessEnv = {};
  for (const e of env) {
    const eq = e.indexOf('=');
    out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

/** Runs the `kind` hooks in order; the first that fails throws, naming it. */
export function runHooks(hooks: Hooks | undefined, kind: HookKind, state: Record<string, unknown>): void {
  const list = hooks?.[kind] ?? [];
  const input = JSON.stringify(state);
  list.forEach((h, i) => {
    const name = `hooks.${kind}[${i}] ${h.path}`;
    const args = h.args ?? [];
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0] ?? h.path,
      env: envOf(h.env),
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: h.timeout === undefined ? undefined : h.timeout * 1000,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 20,
    });
    const said = `${r.stderr?.toString() ?? ''}${r.stdout?.toString() ?? ''}`.trim().slice(0, OUTPUT_MAX).split('\n')[0];
    const tail = said ? `: ${said}` : '';
    const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ETIMEDOUT') throw new RuncError(`${name}: timed out after ${h.timeout} s`);
    // A hook that exits without reading the state (EPIPE on its stdin) ran: its status says how (as runc).
    if (r.error !== undefined && !(code === 'EPIPE' && r.status !== null)) throw new RuncError(`${name}: cannot run it: ${code ?? r.error.message}`);
    if (r.signal !== null) throw new RuncError(`${name}: killed by ${r.signal}${tail}`);
    if (r.status !== 0) throw new RuncError(`${name}: exited with status ${r.status}${tail}`);
  });
}
