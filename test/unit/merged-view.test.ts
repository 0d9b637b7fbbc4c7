// The merged view of a stack of layers (ts/image/merged.ts), as overlayfs shows it: the top
// entry wins, whiteouts hide, opaque directories cut off what is below, files hide
// directories; and a user looked up through it reads the image's /etc/passwd, never the host's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MergedTree } from '../../ts/image/merged.js';
import type { XattrReader } from '../../ts/image/merged.js';
import { readRootfsFile } from '../../ts/host/rootfs-file.js';
import { resolveUser } from '../../ts/runtime/user.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'husk-unit-merged-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Layers made from specs: 'd' dir, 'f:TEXT' file, 'l:TARGET' symlink, 'w' whiteout. */
function layers(...specs: Record<string, string>[]): string[] {
  return specs.map((spec) => {
    const root = join(dir, `l${n++}`);
    mkdirSync(root);
    for (const [path, what] of Object.entries(spec)) {
      const p = join(root, path);
      mkdirSync(join(p, '..'), { recursive: true });
      if (what === 'd') mkdirSync(p, { recursive: true });
      else if (what.startsWith('f:')) writeFileSync(p, what.slice(2));
      else if (what.startsWith('l:')) symlinkSync(what.slice(2), p);
      else if (what === 'w') execFileSync('mknod', [p, 'c', '0', '0']);
    }
    return root;
  });
}

/** A reader that says directories named in `opaque` (by full host path) are opaque; counts calls. */
function fakeXattrs(opaque: string[] = []): XattrReader & { calls: number } {
  const f = (async (root: string, paths: readonly string[]) => {
    f.calls++;
    const out = new Map<string, { name: string; value: Uint8Array }[]>();
    for (const p of paths) out.set(p, opaque.includes(join(root, p)) ? [{ name: 'trusted.overlay.opaque', value: new Uint8Array([0x79]) }] : []);
    return out;
  }) as XattrReader & { calls: number };
  f.calls = 0;
  return f;
}

const names = (t: MergedTree, rel: string) => [...t.list(rel).keys()];

describe('the merged view of layers', () => {
  it('the top entry wins; directories merge; a whiteout hides; a file hides a directory below', async () => {
    const ls = layers(
      { 'etc/a': 'f:low', 'etc/b': 'f:low', 'etc/gone': 'f:low', 'opt/x/deep': 'f:low', keep: 'f:low' },
      { 'etc/a': 'f:high', 'etc/c': 'f:high', 'etc/gone': 'w', opt: 'f:now a file' },
    );
    const t = new MergedTree(ls, fakeXattrs());
    await t.fetchAllOpacity();
    expect(names(t, '')).toEqual(['etc', 'keep', 'opt']);
    expect(names(t, 'etc')).toEqual(['a', 'b', 'c']);
    expect(t.entry('etc/a')?.layer).toBe(1);
    expect(t.entry('etc/b')?.layer).toBe(0);
    expect(t.lstat('etc/gone')).toBeUndefined();
    expect(t.lstat('opt')?.isFile()).toBe(true);
    expect(t.lstat('opt/x/deep')).toBeUndefined();
  });

  it('an opaque directory shows only its own layer\'s entries (and those above)', async () => {
    const ls = layers({ 'srv/old': 'f:1', 'srv/keep/x': 'f:1' }, { 'srv/new': 'f:2' }, { 'srv/top': 'f:3' });
    const t = new MergedTree(ls, fakeXattrs([join(ls[1], 'srv')]));
    await t.fetchAllOpacity();
    expect(names(t, 'srv')).toEqual(['new', 'top']);
    expect(t.lstat('srv/keep/x')).toBeUndefined();
  });

  it('a directory above a whited-out one starts empty (the whiteout is in between)', async () => {
    const ls = layers({ 'var/lib/a': 'f:1' }, { var: 'w' }, { 'var/fresh': 'f:3' });
    const t = new MergedTree(ls, fakeXattrs());
    await t.fetchAllOpacity();
    expect(names(t, 'var')).toEqual(['fresh']);
    expect(t.lstat('var/lib')).toBeUndefined();
  });

  it('settle fetches the opacity a lookup needs, a few launcher runs for a deep path', async () => {
    const ls = layers({ 'a/b/c/file': 'f:x' }, { 'a/b/other': 'f:y' });
    const x = fakeXattrs();
    const t = new MergedTree(ls, x);
    const st = await t.settle(() => t.lstat('a/b/c/file'));
    expect(st?.isFile()).toBe(true);
    expect(x.calls).toBeGreaterThan(0);
    expect(x.calls).toBeLessThanOrEqual(4);
  });

  it('reads /etc/passwd of the merged image, a symlink in an upper layer resolved inside the image', async () => {
    const ls = layers(
      { 'etc/passwd': 'f:root:x:0:0::/root:/bin/sh\n', 'usr/share/real-passwd': 'f:app:x:4242:4343::/:/bin/sh\n' },
      { 'etc/passwd': 'l:/usr/share/real-passwd' },
    );
    const t = new MergedTree(ls, fakeXattrs());
    const bytes = await t.settle(() => readRootfsFile(t, 'etc/passwd'));
    expect(bytes?.toString()).toBe('app:x:4242:4343::/:/bin/sh\n');
    expect(await t.settle(() => resolveUser('app', t))).toEqual({ uid: 4242, gid: undefined, primaryGid: 4343 });
  });

  it('a symlink to /etc/shadow in an image reads the image\'s shadow, or nothing; never the host\'s', async () => {
    const ls = layers({ 'etc/passwd': 'l:/etc/shadow' }, { 'x/escape': 'l:../../../../../../etc/shadow' });
    const t = new MergedTree(ls, fakeXattrs());
    expect(await t.settle(() => readRootfsFile(t, 'etc/passwd'))).toBeUndefined();
    expect(await t.settle(() => readRootfsFile(t, 'x/escape'))).toBeUndefined();
  });

  it('a whited-out /etc/passwd leaves the image without users: -u name is refused', async () => {
    const ls = layers({ 'etc/passwd': 'f:app:x:1:1::/:/bin/sh\n' }, { 'etc/passwd': 'w' });
    const t = new MergedTree(ls, fakeXattrs());
    await expect(t.settle(() => resolveUser('app', t))).rejects.toThrow(/unable to find user app/);
  });
});
