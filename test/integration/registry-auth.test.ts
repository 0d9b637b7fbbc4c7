// Logging in and out, and pulling and pushing with credentials: Debian's docker-registry with
// htpasswd (bcrypt) Basic auth, and with token auth whose bearer tokens come from a token
// server this test serves (as auth.docker.io serves docker.io's). All on 127.0.0.1.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildImage, huskStore, skopeoInspectRaw, skopeoPush, startRegistry, startTokenServer, storeContents } from './registry-helpers.js';
import type { BuiltImage, LocalRegistry, TokenServer } from './registry-helpers.js';

const { root } = useLeakCheck();
const work = suiteDir('registry-auth');
let basic: LocalRegistry;
let tokens: TokenServer;
let bearer: LocalRegistry;
let img: BuiltImage;

beforeAll(async () => {
  basic = await startRegistry(work, { kind: 'basic', user: 'alice', password: 's3cret pass' });
  tokens = await startTokenServer(work, { users: { bob: 'hunter2' }, anonymousPull: true });
  bearer = await startRegistry(work, { kind: 'token', server: tokens });
  img = buildImage(join(work, 'img'), 'v1', [{ 'etc/motd': 'authed\n' }]);
  await skopeoPush(img.layout, 'v1', `${basic.host}/team/app:v1`, { creds: 'alice:s3cret pass' });
  await skopeoPush(img.layout, 'v1', `${bearer.host}/pub/app:v1`, { creds: 'bob:hunter2' });
});

afterAll(async () => {
  await bearer?.stop();
  await basic?.stop();
  await tokens?.close();
});

describe('basic auth (htpasswd)', () => {
  const storage = join(work, 'store-basic');

  it('an anonymous pull is refused with a hint to log in', async () => {
    const r = await huskStore(root, storage, ['pull', '--tls-verify=false', `${basic.host}/team/app:v1`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(`husk: ${basic.host}/team/app: access denied anonymously\nLog in first: husk login ${basic.host}\n`);
  });

  it('login checks the password with the registry before keeping it', async () => {
    const wrong = await huskStore(root, storage, ['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', basic.host], { input: 'nope\n' });
    expect(wrong.status).toBe(125);
    expect(wrong.stderr).toBe(`husk: login to ${basic.host} failed: unauthorized (wrong username or password)\n`);
    expect(existsSync(join(storage, 'auth.json'))).toBe(false);
    const ok = await huskStore(root, storage, ['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', basic.host], { input: 's3cret pass\n' });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('Login Succeeded\n');
    expect(ok.status).toBe(0);
    expect(statSync(join(storage, 'auth.json')).mode & 0o777).toBe(0o600);
    expect(statSync(storage).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(join(storage, 'auth.json'), 'utf8')).auths[basic.host].auth).toBe(Buffer.from('alice:s3cret pass').toString('base64'));
  });

  it('pulls and pushes with the kept login, then logout forgets it', async () => {
    const pulled = await huskStore(root, storage, ['pull', '-q', '--tls-verify=false', `${basic.host}/team/app:v1`]);
    expect(pulled.status, pulled.stderr).toBe(0);
    const pushed = await huskStore(root, storage, ['push', '--tls-verify=false', `${basic.host}/team/app:v1`, `${basic.host}/team/copy:v2`]);
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain(`v2: digest: ${img.manifestDigest} size:`);
    expect((await skopeoInspectRaw(`${basic.host}/team/copy:v2`, 'alice:s3cret pass')).config.digest).toBe(img.configDigest);
    const out = await huskStore(root, storage, ['logout', basic.host]);
    expect(out.stdout).toBe(`Removing login credentials for ${basic.host}\n`);
    expect((await huskStore(root, storage, ['logout', basic.host])).stdout).toBe(`Not logged in to ${basic.host}\n`);
    const after = await huskStore(root, storage, ['pull', '--tls-verify=false', `${basic.host}/team/app:v1`]);
    expect(after.status).toBe(125);
  });

  it('a login cannot be typed without a terminal, and --creds works for one command', async () => {
    const r = await huskStore(root, storage, ['login', '--tls-verify=false', basic.host]);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('husk: cannot ask for a username and password: stdin is not a terminal\nUse -u USER with --password-stdin (or -p PASSWORD).\n');
    const once = await huskStore(root, join(work, 'store-creds'), ['pull', '-q', '--tls-verify=false', '--creds', 'alice:s3cret pass', `${basic.host}/team/app:v1`]);
    expect(once.status, once.stderr).toBe(0);
    expect(existsSync(join(work, 'store-creds', 'auth.json'))).toBe(false);
  });
});

describe('bearer tokens from a token server', () => {
  const storage = join(work, 'store-bearer');

  it('an anonymous pull gets a pull-only token for the repository', async () => {
    const before = tokens.requests.length;
    const r = await huskStore(root, storage, ['pull', '-q', '--tls-verify=false', `${bearer.host}/pub/app:v1`]);
    expect(r.status, r.stderr).toBe(0);
    expect(storeContents(storage).refs[`${bearer.host}/pub/app:v1`]).toBe(img.configDigest);
    // One token for the whole pull, anonymous, scoped to the repository.
    expect(tokens.requests.slice(before)).toEqual([{ scopes: ['repository:pub/app:pull'], user: undefined }]);
  });

  it('a push needs a login; after it the token carries push', async () => {
    const denied = await huskStore(root, storage, ['push', '--tls-verify=false', `${bearer.host}/pub/app:v1`, `${bearer.host}/pub/mine:1`]);
    expect(denied.status).toBe(125);
    expect(denied.stderr.endsWith(`\nhusk: ${bearer.host}/pub/mine: access denied anonymously (UNAUTHORIZED: authentication required)\nLog in first: husk login ${bearer.host}\n`), denied.stderr).toBe(true);
    const bad = await huskStore(root, storage, ['login', '--tls-verify=false', '-u', 'bob', '-p', 'wrong', bearer.host]);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/login to .* failed: the token server refused user "bob"/);
    const login = await huskStore(root, storage, ['login', '--tls-verify=false', '-u', 'bob', '--password-stdin', bearer.host], { input: 'hunter2' });
    expect(login.status, login.stderr).toBe(0);
    const before = tokens.requests.length;
    const pushed = await huskStore(root, storage, ['push', '--tls-verify=false', `${bearer.host}/pub/app:v1`, `${bearer.host}/pub/mine:1`]);
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(tokens.requests.slice(before)).toContainEqual({ scopes: ['repository:pub/mine:pull,push'], user: 'bob' });
    expect((await skopeoInspectRaw(`${bearer.host}/pub/mine:1`)).layers.map((l: { digest: string }) => l.digest)).toEqual(img.layers);
  });
});
