// Registry credentials on disk, in the shape docker and podman share ({"auths": {"HOST":
// {"auth": base64("user:password")}}}), so their files can be pointed at with --authfile.
// Default: <storage>/auth.json, mode 0600 inside the 0700 store: only root reads it. Written
// to a temp file and renamed, never truncated in place.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HuskError } from '../../errors.js';
import { DEFAULT_REGISTRY } from '../reference.js';

export interface Credentials {
  username: string;
  password: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

const MAX_AUTH_FILE = 1 << 20;

/** The credentials file: --authfile, else $REGISTRY_AUTH_FILE (podman's), else <storage>/auth.json. */
export function authFilePath(storage: string, override?: string): string {
  return override ?? process.env.REGISTRY_AUTH_FILE ?? join(storage, 'auth.json');
}

/** The keys a registry may be filed under (docker writes docker.io as its v1 index URL). */
function keysFor(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  if (registry === DEFAULT_REGISTRY) keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

function readAuthFile(file: string): AuthFile {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new HuskError('host', `cannot read the credentials file ${file}: ${(err as Error).message}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new HuskError('usage', `the credentials file ${file} is not a regular file`);
    if (st.size > MAX_AUTH_FILE) throw new HuskError('usage', `the credentials file ${file} is larger than ${MAX_AUTH_FILE} bytes`);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  if (text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as AuthFile;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    if (parsed.auths !== undefined && (typeof parsed.auths !== 'object' || parsed.auths === null)) throw new Error('"auths" is not an object');
    return parsed;
  } catch (err) {
    throw new HuskError('usage', `the credentials file ${file} is not valid JSON (${(err as Error).message})`);
  }
}

/** The stored login for `registry`, if any. */
export function readCredentials(file: string, registry: string): Credentials | undefined {
  const auths = readAuthFile(file).auths ?? {};
  for (const key of keysFor(registry)) {
    const entry = auths[key];
    if (!entry || typeof entry !== 'object') continue;
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const text = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon <= 0) throw new HuskError('usage', `the credentials for ${registry} in ${file} are not base64 of USER:PASSWORD`);
      return { username: text.slice(0, colon), password: text.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  }
  return undefined;
}

function writeAuthFile(file: string, data: AuthFile): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.auth.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(data, null, '\t')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Files `creds` for `registry` (replacing what was filed under any of its keys). */
export function saveCredentials(file: string, registry: string, creds: Credentials): void {
  const data = readAuthFile(file);
  const auths = { ...(data.auths ?? {}) };
  for (const key of keysFor(registry)) delete auths[key];
  auths[registry] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  writeAuthFile(file, { ...data, auths });
}

/** Forgets `registry`'s login; false when there was none. */
export function removeCredentials(file: string, registry: string): boolean {
  const data = readAuthFile(file);
  const auths = { ...(data.auths ?? {}) };
  const present = keysFor(registry).filter((k) => k in auths);
  if (present.length === 0) return false;
  for (const key of present) delete auths[key];
  writeAuthFile(file, { ...data, auths });
  return true;
}
