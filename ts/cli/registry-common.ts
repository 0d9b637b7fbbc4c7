// What pull, push and login share: where the credentials file is, and which credentials a
// registry gets (--creds for this command, else the file's).
import { HuskError } from '../errors.js';
import { storageRoot } from '../image/store.js';
import { authFilePath, readCredentials } from '../image/registry/credentials.js';
import type { Credentials } from '../image/registry/credentials.js';
import type { GlobalFlags } from './args.js';

export function authFile(global: GlobalFlags, authfile?: string): string {
  return authFilePath(storageRoot(global.storage), authfile);
}

/** USER:PASSWORD of --creds. */
export function parseCreds(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new HuskError('usage', 'invalid value for --creds: expected USER:PASSWORD');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function credentialsFor(global: GlobalFlags, authfile: string | undefined, creds: string | undefined): (registry: string) => Credentials | undefined {
  const given = creds !== undefined ? parseCreds(creds) : undefined;
  return (registry) => given ?? readCredentials(authFile(global, authfile), registry);
}
