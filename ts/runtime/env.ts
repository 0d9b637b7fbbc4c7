// -e and --env-file, as docker reads them: KEY=VALUE, or KEY alone to copy husk's own value.
import { readFileSync } from 'node:fs';
import { HuskError } from '../errors.js';

function fromHost(entry: string, hostEnv: NodeJS.ProcessEnv): string | undefined {
  if (entry.includes('=')) return entry;
  const v = hostEnv[entry];
  return v === undefined ? undefined : `${entry}=${v}`;
}

export function parseEnvFile(path: string, text: string, hostEnv: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const key = line.split('=', 1)[0];
    if (key === '' || /\s/.test(key)) throw new HuskError('invalid-value', `env file ${path} line ${n + 1}: variable "${key}" contains whitespace or is empty`);
    const e = fromHost(line, hostEnv);
    if (e !== undefined) out.push(e);
  }
  return out;
}

/** Env files first, then -e flags, in order: later entries win inside the core. */
export function collectEnv(envFlags: readonly string[], envFiles: readonly string[], hostEnv: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const file of envFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new HuskError('invalid-value', `open env file ${file}: ${code === 'ENOENT' ? 'no such file or directory' : code}`);
    }
    out.push(...parseEnvFile(file, text, hostEnv));
  }
  for (const e of envFlags) {
    const v = fromHost(e, hostEnv);
    if (v !== undefined) out.push(v);
  }
  return out;
}
