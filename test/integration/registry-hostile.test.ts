// A registry that lies: served by the test itself on 127.0.0.1, it answers husk pull with
// broken JSON, endless manifests, redirect loops, too many layers, digests that do not match,
// blobs longer than they said, configs that disagree with their manifests, layers that are
// not tars. Each gets one line naming what is wrong, exit 125, and a store with nothing in it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { expectEmptyStore, huskStore, sha256 } from './registry-helpers.js';

const { root } = useLeakCheck();
const work = suiteDir('registry-hostile');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let routes: Record<string, Handler> = {};
let server: Server;
let host = '';
let n = 0;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** A gzip'd tar of one file, and its diffId. */
function layerOf(name: string, content: string): { blob: Buffer; diffId: string } {
  const d = mkdtempSync(join(work, 'l-'));
  writeFileSync(join(d, name), content);
  const tar = spawnSync('tar', ['--owner=0', '--group=0', '-C', d, '-cf', '-', name]).stdout;
  rmSync(d, { recursive: true });
  return { blob: gzipSync(tar), diffId: sha256(tar) };
}

interface Image {
  manifest: Buffer;
  config: Buffer;
  blobs: Map<string, Buffer>;
}

/** A well-formed image: `tweak` may break its config or manifest on purpose. */
function image(layers: { blob: Buffer; diffId: string }[], tweak: { diffIds?: string[]; manifest?: (m: any) => void } = {}): Image {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: tweak.diffIds ?? layers.map((l) => l.diffId) } }));
  const m = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: GZIP_LAYER, digest: sha256(l.blob), size: l.blob.length })),
  };
  tweak.manifest?.(m);
  const blobs = new Map<string, Buffer>([[sha256(config), config], ...layers.map((l) => [sha256(l.blob), l.blob] as [string, Buffer])]);
  return { manifest: Buffer.from(JSON.stringify(m)), config, blobs };
}

/** Routes that serve `img` under evil/x:t (blobs by digest, as a registry does). */
function serve(img: Image, overrides: Record<string, Handler> = {}): void {
  routes = {
    '/v2/evil/x/manifests/t': (_q, res) => res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(img.manifest) }).end(img.manifest),
    ...Object.fromEntries([...img.blobs].map(([d, b]) => [`/v2/evil/x/blobs/${d}`, (_q: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-length': b.length }).end(b)])),
    ...overrides,
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/v2/') return void res.writeHead(200).end('{}');
    const h = routes[path];
    if (h) return h(req, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}');
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Pulls evil/x:t into a fresh store: the one error line, after checking the store is empty. */
async function refused(): Promise<string> {
  const storage = join(work, `store-${++n}`);
  const r = await huskStore(root, storage, ['pull', '-q', '--tls-verify=false', `${host}/evil/x:t`]);
  expect(r.status).toBe(125);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')).toHaveLength(2); // one line and its newline
  expectEmptyStore(storage);
  server.closeAllConnections();
  return r.stderr.replaceAll(host, 'REG');
}

describe('a hostile registry gets one clear line and leaves nothing in the store', () => {
  const good = () => [layerOf('a', 'one'), layerOf('b', 'two')];

  it('a manifest that is not JSON', async () => {
    routes = { '/v2/evil/x/manifests/t': (_q, res) => res.writeHead(200, { 'content-type': OCI_MANIFEST }).end('{"schemaVersion": 2, "layers": [') };
    expect(await refused()).toMatch(/^husk: REG\/evil\/x:t: the manifest is not valid JSON \(/);
  });

  it('an endless manifest, with or without a length', async () => {
    const chunk = Buffer.alloc(1 << 20, 0x20);
    routes = {
      '/v2/evil/x/manifests/t': (_q, res) => {
        res.writeHead(200, { 'content-type': OCI_MANIFEST });
        const more = () => {
          while (res.write(chunk)) if (res.destroyed) return;
        };
        res.on('drain', more);
        res.on('error', () => undefined);
        more();
      },
    };
    expect(await refused()).toBe('husk: the manifest of REG/evil/x:t is too large: more than 4194304 bytes\n');
    routes['/v2/evil/x/manifests/t'] = (_q, res) => res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': 1 << 30 }).end();
    expect(await refused()).toBe('husk: the manifest of REG/evil/x:t is too large: 1073741824 bytes (husk reads at most 4194304)\n');
  });

  it('a redirect loop, and a redirect chain too long', async () => {
    routes = {
      '/v2/evil/x/manifests/t': (_q, res) => res.writeHead(307, { location: '/v2/evil/x/manifests/u' }).end(),
      '/v2/evil/x/manifests/u': (_q, res) => res.writeHead(302, { location: `http://${host}/v2/evil/x/manifests/t` }).end(),
    };
    expect(await refused()).toBe('husk: http://REG/v2/evil/x/manifests/t: redirect loop (http://REG/v2/evil/x/manifests/t again after 2 redirects)\n');
    let hop = 0;
    routes = { '/v2/evil/x/manifests/t': (_q, res) => res.writeHead(302, { location: `/v2/evil/x/manifests/t?hop=${++hop}` }).end() };
    expect(await refused()).toBe('husk: http://REG/v2/evil/x/manifests/t: more than 10 redirects\n');
  });

  it('an image of 501 layers', async () => {
    const l = layerOf('a', 'x');
    serve(image(Array.from({ length: 501 }, () => l)));
    expect(await refused()).toBe('husk: REG/evil/x:t: the image has 501 layers; husk pulls at most 500 (overlayfs stacks at most 500)\n');
  });

  it('a manifest whose bytes are not the digest the registry claims', async () => {
    const img = image(good());
    serve(img, { '/v2/evil/x/manifests/t': (_q, res) => res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256('other') }).end(img.manifest) });
    expect(await refused()).toBe(`husk: REG/evil/x:t: the registry says the manifest's digest is ${sha256('other')}, but its bytes hash to ${sha256(img.manifest)}\n`);
  });

  it('a layer whose bytes are not its digest, after another layer arrived whole', async () => {
    const layers = good();
    const img = image(layers);
    const evil = Buffer.from(layers[1].blob);
    evil[evil.length - 1] ^= 0xff;
    serve(img, { [`/v2/evil/x/blobs/${sha256(layers[1].blob)}`]: (_q, res) => setTimeout(() => res.writeHead(200).end(evil), 200) });
    expect(await refused()).toMatch(new RegExp(`^husk: REG/evil/x:t: blob ${sha256(layers[1].blob)} does not match its digest \\(the content is sha256:[0-9a-f]{64}\\)\\n$`));
  });

  it('a layer longer than its descriptor says', async () => {
    const layers = good();
    const img = image(layers);
    serve(img, { [`/v2/evil/x/blobs/${sha256(layers[0].blob)}`]: (_q, res) => res.writeHead(200).end(Buffer.concat([layers[0].blob, Buffer.alloc(10)])) });
    expect(await refused()).toBe(`husk: REG/evil/x:t: layer ${sha256(layers[0].blob)}: the registry sent more than the ${layers[0].blob.length} bytes the manifest says\n`);
  });

  it('a config that lists another number of layers than its manifest', async () => {
    const layers = good();
    serve(image(layers, { diffIds: [layers[0].diffId] }));
    expect(await refused()).toBe('husk: REG/evil/x:t: the image config lists 1 layers, the manifest 2\n');
  });

  it('a layer whose content is not what the config says', async () => {
    const layers = good();
    serve(image(layers, { diffIds: [layers[0].diffId, sha256('not it')] }));
    expect(await refused()).toBe(`husk: REG/evil/x:t: layer 2 (${sha256(layers[1].blob)}): its content is ${layers[1].diffId}, but the image config says ${sha256('not it')}\n`);
  });

  it('a layer that is not a tar', async () => {
    const junk = { blob: gzipSync(Buffer.from('this is not a tar archive at all, but it is gzip\n'.repeat(20))), diffId: sha256('x') };
    serve(image([layerOf('a', 'one'), junk]));
    expect(await refused()).toMatch(/^husk: .*layer 2.*\n$/);
  });

  it('a descriptor with a digest that is not sha256', async () => {
    serve(image(good(), { manifest: (m) => (m.layers[0].digest = `sha512:${'a'.repeat(128)}`) }));
    expect(await refused()).toBe(`husk: REG/evil/x:t: layers[0] has digest "sha512:${'a'.repeat(73)}", not sha256:<64 hex>\n`);
  });
});
