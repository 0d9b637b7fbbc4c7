// Registries for the pull/push suites, all on 127.0.0.1: Debian's docker-registry started with
// a config of the test's own (storage in a temp dir, a free port, optional htpasswd or token
// auth) and stopped by its pid; a bearer-token server served by the test process itself; OCI
// image layouts built with GNU tar and put into the registry by skopeo.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, createSign, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { huskBin } from './helpers.js';

export const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A port nothing listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export type RegistryAuth = { kind: 'none' } | { kind: 'basic'; user: string; password: string } | { kind: 'token'; server: TokenServer };

export interface LocalRegistry {
  host: string; // 127.0.0.1:PORT
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function waitFor(url: string, ms: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer at ${url}: ${log()}`);
}

/** docker-registry on 127.0.0.1:<free port>, its storage and config under `dir`. */
export async function startRegistry(dir: string, auth: RegistryAuth = { kind: 'none' }): Promise<LocalRegistry> {
  const port = await freePort();
  const root = join(dir, `registry-${port}`);
  mkdirSync(join(root, 'storage'), { recursive: true });
  let authYaml = '';
  if (auth.kind === 'basic') {
    const r = spawnSync('htpasswd', ['-Bbn', auth.user, auth.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    writeFileSync(join(root, 'htpasswd'), r.stdout);
    authYaml = `auth:\n  htpasswd:\n    realm: husk-test\n    path: ${join(root, 'htpasswd')}\n`;
  } else if (auth.kind === 'token') {
    authYaml = `auth:\n  token:\n    realm: ${auth.server.url}/token\n    service: ${auth.server.service}\n    issuer: ${auth.server.issuer}\n    rootcertbundle: ${auth.server.certFile}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(root, 'storage')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${authYaml}`;
  writeFileSync(join(root, 'config.yml'), config);
  const child = spawn('/usr/bin/docker-registry', ['serve', join(root, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  await waitFor(`http://127.0.0.1:${port}/v2/`, 15_000, child, () => log);
  return {
    host: `127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('close', r));
        process.kill(child.pid!, 'SIGTERM');
        await gone;
      }
    },
  };
}

export interface TokenServer {
  url: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Each token request: the scopes asked and the user (undefined: anonymous). */
  requests: { scopes: string[]; user?: string }[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A bearer-token server as distribution's token spec describes (what auth.docker.io is):
 * Basic credentials in, a JWT signed by a key whose certificate the registry trusts, out.
 * `users` may pull and push; anonymous requests get pull only when `anonymousPull`.
 */
export async function startTokenServer(dir: string, opts: { users: Record<string, string>; anonymousPull: boolean }): Promise<TokenServer> {
  const keyFile = join(dir, 'token-key.pem');
  const certFile = join(dir, 'token-cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=husk-test-token'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const key = readFileSync(keyFile, 'utf8');
  const der = Buffer.from(readFileSync(certFile, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const service = 'husk-test-registry';
  const issuer = 'husk-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(h.slice(6), 'base64').toString().split(':');
      if (opts.users[u] !== p.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong password"}');
        requests.push({ scopes, user: `${u} (refused)` });
        return;
      }
      user = u;
    }
    requests.push({ scopes, user });
    if (!user && !opts.anonymousPull) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"login needed"}');
      return;
    }
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = s.split(':');
      if (type !== 'repository' || !name) return [];
      const asked = (actions ?? '').split(',');
      return [{ type, name, actions: asked.filter((a) => user || a === 'pull') }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: user ?? '', aud: service, exp: now + 600, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const sig = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(sig)}`, expires_in: 600 }));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    issuer,
    certFile,
    requests,
    close: () => new Promise<void>((res) => {
      server.closeAllConnections();
      server.close(() => res());
    }),
  };
}

export interface BuiltImage {
  layout: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  layers: string[]; // compressed digests, bottom → top
  diffIds: string[];
}

export type LayerFiles = Record<string, string | Buffer>;

function tarOf(files: LayerFiles, scratch: string): Buffer {
  const d = mkdtempSync(join(scratch, 'layer-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(d, path)), { recursive: true });
      writeFileSync(join(d, path), content);
    }
    const r = spawnSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', d, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

function putBlob(layout: string, bytes: Buffer): string {
  const digest = sha256(bytes);
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), bytes);
  return digest;
}

/** One image (its blobs) into an OCI layout; the index entry is not written. */
function imageInto(layout: string, layers: LayerFiles[], opts: { arch?: string; variant?: string; gzipLevel?: number }) {
  const tars = layers.map((files) => tarOf(files, layout));
  const diffIds = tars.map(sha256);
  const blobs = tars.map((t) => gzipSync(t, { level: opts.gzipLevel ?? 6 }));
  const layerDigests = blobs.map((b) => putBlob(layout, b));
  const config = Buffer.from(JSON.stringify({
    architecture: opts.arch ?? 'amd64', ...(opts.variant ? { variant: opts.variant } : {}), os: 'linux',
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({ created_by: 'husk test' })),
  }));
  const configDigest = putBlob(layout, config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: blobs.map((b, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigests[i], size: b.length })),
  }));
  const manifestDigest = putBlob(layout, manifest);
  return { manifest, manifestDigest, configDigest, layers: layerDigests, diffIds };
}

function writeIndex(layout: string, entry: object): void {
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
}

/** An OCI layout at `layout` holding one image tagged `tag`. */
export function buildImage(layout: string, tag: string, layers: LayerFiles[], opts: { arch?: string; gzipLevel?: number } = {}): BuiltImage {
  mkdirSync(layout, { recursive: true });
  const img = imageInto(layout, layers, opts);
  writeIndex(layout, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifestDigest, size: img.manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } });
  return { layout, tag, manifestDigest: img.manifestDigest, configDigest: img.configDigest, layers: img.layers, diffIds: img.diffIds };
}

/** An OCI layout whose `tag` is an image index of one image per platform. */
export function buildIndex(layout: string, tag: string, images: { arch: string; variant?: string; layers: LayerFiles[] }[]) {
  mkdirSync(layout, { recursive: true });
  const built = images.map((i) => ({ ...imageInto(layout, i.layers, i), arch: i.arch, variant: i.variant }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: built.map((b) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: b.manifestDigest, size: b.manifest.length, platform: { os: 'linux', architecture: b.arch, ...(b.variant ? { variant: b.variant } : {}) } })),
  }));
  const indexDigest = putBlob(layout, index);
  writeIndex(layout, { mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: index.length, annotations: { 'org.opencontainers.image.ref.name': tag } });
  return { indexDigest, images: built };
}

export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A command run without blocking this process (spawnSync would stall the token server and
 * the fake registries the tests serve from here).
 */
export function runAsync(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

/** skopeo copy of a layout's tag into the registry (all platforms of an index). */
export async function skopeoPush(layout: string, tag: string, dest: string, opts: { creds?: string; format?: 'v2s2' | 'oci' } = {}): Promise<void> {
  const args = ['copy', '--quiet', '--all', '--dest-tls-verify=false'];
  if (opts.creds) args.push('--dest-creds', opts.creds);
  if (opts.format) args.push('--format', opts.format);
  const r = await runAsync('skopeo', [...args, `oci:${layout}:${tag}`, `docker://${dest}`]);
  if (r.status !== 0) throw new Error(`skopeo copy to ${dest} failed: ${r.stderr}`);
}

/** skopeo inspect --raw of a registry image (the manifest as the registry serves it). */
export async function skopeoInspectRaw(ref: string, creds?: string): Promise<any> {
  const r = await runAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `docker://${ref}`]);
  if (r.status !== 0) throw new Error(`skopeo inspect ${ref} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** husk with its image store at `storage`, run without blocking this process. */
export function huskStore(root: string, storage: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
  return runAsync(process.execPath, ['--', huskBin, '--root', root, '--storage', storage, ...args], opts);
}

/** What a store holds, by the layout of docs/images.md: blob digests, layer diffIds, image ids, refs, temp entries. */
export function storeContents(storage: string): { blobs: string[]; layers: string[]; images: string[]; refs: Record<string, string>; tmp: string[] } {
  const ls = (p: string) => {
    try {
      return readdirSync(join(storage, p));
    } catch {
      return [];
    }
  };
  const blobs = ls('blobs/sha256').flatMap((ab) => ls(`blobs/sha256/${ab}`).map((h) => `sha256:${h}`)).sort();
  let refs: Record<string, string> = {};
  try {
    refs = JSON.parse(readFileSync(join(storage, 'refs.json'), 'utf8'));
  } catch {
    // no refs yet
  }
  return {
    blobs,
    layers: ls('layers').map((h) => `sha256:${h}`).sort(),
    images: ls('images').map((f) => `sha256:${f.replace(/\.json$/, '')}`).sort(),
    refs,
    tmp: ls('tmp').filter((n) => !n.endsWith('-hold')),
  };
}

/** A store holds nothing an image could use (temp files of dead writers aside, which the next command sweeps). */
export function expectEmptyStore(storage: string): void {
  const c = storeContents(storage);
  expect({ blobs: c.blobs, layers: c.layers, images: c.images, refs: c.refs }).toEqual({ blobs: [], layers: [], images: [], refs: {} });
}

export interface Proxy {
  url: string;
  host: string;
  /** GET requests seen, by path. */
  gets: string[];
  /** Every request seen: "METHOD path". */
  requests: string[];
  /** The next GET of a path ending in `suffix` sends `bytes` bytes of its body, then stalls. */
  stall(suffix: string | undefined, bytes?: number): void;
  /** Resolves when a stalled response has sent its bytes. */
  stalled: () => Promise<void>;
  close(): Promise<void>;
}

/** An HTTP proxy in front of a registry (127.0.0.1 only) that counts GETs and can stall one mid-body. */
export async function startProxy(target: string): Promise<Proxy> {
  const { request } = await import('node:http');
  const gets: string[] = [];
  const requests: string[] = [];
  let stallSuffix: string | undefined;
  let stallBytes = 0;
  let onStalled: () => void = () => undefined;
  let stalledP = new Promise<void>((r) => (onStalled = r));
  const server = createServer((req, res) => {
    if (req.method === 'GET') gets.push(req.url ?? '');
    requests.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    const stallThis = stallSuffix !== undefined && req.method === 'GET' && (req.url ?? '').endsWith(stallSuffix);
    if (stallThis) stallSuffix = undefined;
    const up = request(`http://${target}${req.url}`, { method: req.method, headers: req.headers, agent: false }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (!stallThis) {
        upRes.pipe(res);
        return;
      }
      let sent = 0;
      upRes.on('data', (c: Buffer) => {
        if (sent >= stallBytes) return;
        const part = c.subarray(0, stallBytes - sent);
        sent += part.length;
        res.write(part);
        if (sent >= stallBytes) {
          upRes.pause();
          onStalled();
        }
      });
    });
    // The Host header passes unchanged: the registry builds upload Locations from it, so
    // they point back at the proxy.
    // A client that went away (killed mid-transfer) takes its upstream request with it.
    res.once('close', () => up.destroy());
    up.once('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    gets,
    requests,
    stall(suffix, bytes = 0) {
      stallSuffix = suffix;
      stallBytes = bytes;
      stalledP = new Promise<void>((r) => (onStalled = r));
    },
    stalled: () => stalledP,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
