// husk login / logout: credentials checked with the registry, then kept in the credentials
// file (0600); a password comes from --password-stdin, -p, or a prompt without echo.
import { HuskError } from '../errors.js';
import { normalizeRegistry } from '../image/reference.js';
import { RegistryClient } from '../image/registry/client.js';
import { removeCredentials, saveCredentials } from '../image/registry/credentials.js';
import { NetworkError, networkReason } from '../image/registry/http.js';
import type { RegistryCommand } from './args-registry.js';
import { authFile } from './registry-common.js';

type Login = Extract<RegistryCommand, { name: 'login' }>;
type Logout = Extract<RegistryCommand, { name: 'logout' }>;

const MAX_STDIN_PASSWORD = 64 << 10;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_STDIN_PASSWORD) throw new HuskError('usage', `--password-stdin: more than ${MAX_STDIN_PASSWORD} bytes on stdin`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** A line from the terminal; without echo for a password. */
function prompt(question: string, secret: boolean): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          process.stderr.write('\n');
          resolve(text);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          process.stderr.write('\n');
          reject(new HuskError('usage', 'login cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (text.length) {
            text = text.slice(0, -1);
            if (!secret) process.stderr.write('\b \b');
          }
          continue;
        }
        text += ch;
        if (!secret) process.stderr.write(ch);
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}

export async function loginCommand(cmd: Login): Promise<number> {
  const registry = normalizeRegistry(cmd.registry);
  const tty = Boolean(process.stdin.isTTY);
  let username = cmd.username;
  let password = cmd.password;
  if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (cmd.passwordStdin) password = await readStdin();
  if (username === undefined || password === undefined) {
    if (!tty) throw new HuskError('usage', 'cannot ask for a username and password: stdin is not a terminal', { hint: 'Use -u USER with --password-stdin (or -p PASSWORD).' });
    if (username === undefined) username = await prompt('Username: ', false);
    if (password === undefined) password = await prompt('Password: ', true);
  }
  if (username === '') throw new HuskError('usage', 'the username is empty');
  if (password === '') throw new HuskError('usage', 'the password is empty');
  const creds = { username, password };
  let client: RegistryClient;
  try {
    client = await RegistryClient.connect(registry, { tlsVerify: cmd.tlsVerify, credentials: creds });
  } catch (err) {
    if (err instanceof NetworkError) throw new HuskError('registry', `login to ${registry} failed: it does not answer: ${networkReason(err.cause)}`, { cause: err });
    throw err;
  }
  try {
    await client.checkLogin();
  } finally {
    client.close();
  }
  saveCredentials(authFile(cmd.global, cmd.authfile), registry, creds);
  process.stdout.write('Login Succeeded\n');
  return 0;
}

export async function logoutCommand(cmd: Logout): Promise<number> {
  const registry = normalizeRegistry(cmd.registry ?? 'docker.io');
  const removed = removeCredentials(authFile(cmd.global, cmd.authfile), registry);
  process.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
  return 0;
}
