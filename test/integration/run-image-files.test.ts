// diff, export and cp over a container's layers on disk, read the way overlayfs merges them
// (whiteouts as 0/0 devices, opaque directories by their xattr, read by the launcher), and
// path-safe: a symlink in a layer or in the upper never leads a read or a write to the host.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { MergedTree } from '../../ts/image/merged.js';
import { readXattrs } from '../../ts/runtime/fs-ops.js';
import { copyFromContainer, copyToContainer, diffUpper, exportTree } from '../../ts/runtime/container-files.js';
import type { LayerFiles } from '../../ts/runtime/container-files.js';

useLeakCheck();
const work = suiteDir('run-image-files');
let n = 0;
let d: string;
let c: LayerFiles;

const sh = (script: string, dir: string) => execFileSync('sh', ['-ec', script], { cwd: dir });

/**
 * Two image layers and an upper: l0 has etc/motd, data/{keep,gone}, opq/{a,b/deep} and the
 * hostile links /evil -> /etc/shadow, /evildir -> /etc, /updir -> ../../../../etc; l1 deletes
 * data/gone and makes opq opaque with opq/c; the upper changes etc/motd, adds /new, deletes
 * /added (of l1) and recreates opq (opaque again) with opq/fresh, and has husk's /proc.
 */
beforeEach(() => {
  d = join(work, `c${n++}`);
  mkdirSync(d);
  sh(
    `mkdir -p l0/etc l0/data l0/opq/b l1/data l1/opq up/etc up/opq up/proc host
     echo base > l0/etc/motd; printf 'root:x:0:0:image:/root:/bin/sh\\n' > l0/etc/passwd; echo keep > l0/data/keep; echo gone > l0/data/gone
     echo a > l0/opq/a; echo deep > l0/opq/b/deep
     ln -s /etc/shadow l0/evil; ln -s /etc l0/evildir; ln -s ../../../../../../etc l0/updir
     mknod l1/data/gone c 0 0; setfattr -n trusted.overlay.opaque -v y l1/opq; echo c > l1/opq/c; echo added > l1/added
     echo changed > up/etc/motd; echo new > up/new; mknod up/added c 0 0
     setfattr -n trusted.overlay.opaque -v y up/opq; echo fresh > up/opq/fresh`,
    d,
  );
  const layers = [join(d, 'l0'), join(d, 'l1')];
  c = {
    rec: { id: `c0ffee${n}`, created: '', name: 'box' },
    upper: join(d, 'up'),
    lowerTree: new MergedTree(layers, readXattrs),
    tree: new MergedTree([...layers, join(d, 'up')], readXattrs),
  } as unknown as LayerFiles;
});

describe('diff over layers on disk', () => {
  it('A, C and D as docker: whiteouts are D, an opaque directory hides what the image had, husk\'s /proc is left out', async () => {
    expect((await diffUpper(c)).map((x) => `${x.kind} ${x.path}`)).toEqual(['D /added', 'C /etc', 'C /etc/motd', 'A /new', 'C /opq', 'D /opq/c', 'A /opq/fresh']);
  });
});

describe('export over layers on disk', () => {
  it('the merged view: no whiteout, nothing hidden, links kept as links', async () => {
    const out = join(d, 'out.tar');
    await exportTree(c.tree, createWriteStream(out));
    const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(names).toEqual(['data/', 'data/keep', 'etc/', 'etc/motd', 'etc/passwd', 'evil', 'evildir', 'new', 'opq/', 'opq/fresh', 'proc/', 'updir']);
    expect(execFileSync('tar', ['-xOf', out, 'etc/motd'], { encoding: 'utf8' })).toBe('changed\n');
    expect(execFileSync('tar', ['-tvf', out, 'evil'], { encoding: 'utf8' })).toMatch(/evil -> \/etc\/shadow/);
  });
});

describe('cp out of a container', () => {
  it('a file, and a directory as the container sees it', async () => {
    await copyFromContainer(c, '/etc/motd', join(d, 'host/motd'), false);
    expect(readFileSync(join(d, 'host/motd'), 'utf8')).toBe('changed\n');
    await copyFromContainer(c, '/opq', join(d, 'host'), false);
    expect(readdirSync(join(d, 'host/opq'))).toEqual(['fresh']);
  });

  it('a symlink to /etc/shadow is copied as the link; followed (-L), it is looked for inside the image', async () => {
    await copyFromContainer(c, '/evil', join(d, 'host/evil'), false);
    expect(readlinkSync(join(d, 'host/evil'))).toBe('/etc/shadow');
    await expect(copyFromContainer(c, '/evil', join(d, 'host/evil-followed'), true)).rejects.toThrow('could not find the file /evil in container box');
    expect(existsSync(join(d, 'host/evil-followed'))).toBe(false);
  });

  it('through directory symlinks, absolute or climbing with .., it reads the image\'s /etc', async () => {
    await copyFromContainer(c, '/evildir/passwd', join(d, 'host/p1'), false);
    await copyFromContainer(c, '/updir/passwd', join(d, 'host/p2'), false);
    expect(readFileSync(join(d, 'host/p1'), 'utf8')).toBe('root:x:0:0:image:/root:/bin/sh\n');
    expect(readFileSync(join(d, 'host/p2'), 'utf8')).toBe('root:x:0:0:image:/root:/bin/sh\n');
  });

  it('a deleted or hidden path is not found', async () => {
    await expect(copyFromContainer(c, '/data/gone', join(d, 'host/x'), false)).rejects.toThrow(/could not find the file \/data\/gone/);
    await expect(copyFromContainer(c, '/opq/a', join(d, 'host/x'), false)).rejects.toThrow(/could not find/);
    await expect(copyFromContainer(c, '/added', join(d, 'host/x'), false)).rejects.toThrow(/could not find/);
  });
});

describe('cp into a container', () => {
  it('lands in the upper through the image\'s symlinks, never on the host', async () => {
    const marker = `husk-test-${process.pid}-marker-${n}`;
    writeFileSync(join(d, 'host', marker), 'x\n');
    await copyToContainer(c, join(d, 'host', marker), '/evildir/', false);
    await copyToContainer(c, join(d, 'host', marker), '/updir/', false);
    expect(existsSync(join('/etc', marker))).toBe(false);
    expect(readFileSync(join(d, 'up/etc', marker), 'utf8')).toBe('x\n');
    // /evil names /etc/shadow, which the image lacks: the link itself is replaced, in the upper.
    await copyToContainer(c, join(d, 'host', marker), '/evil', false);
    expect(readFileSync(join(d, 'up/evil'), 'utf8')).toBe('x\n');
    expect(lstatSync('/etc/shadow').size).not.toBe(2);
  });

  it('a symlink the container made in its upper is resolved inside too', async () => {
    symlinkSync('/etc', join(d, 'up/made'));
    symlinkSync('../../../../../../../../../etc', join(d, 'up/climb'));
    writeFileSync(join(d, 'host/f'), 'f\n');
    await copyToContainer(c, join(d, 'host/f'), '/made/viaupper', false);
    await copyToContainer(c, join(d, 'host/f'), '/climb/viaclimb', false);
    expect(existsSync('/etc/viaupper')).toBe(false);
    expect(existsSync('/etc/viaclimb')).toBe(false);
    expect(readFileSync(join(d, 'up/etc/viaupper'), 'utf8')).toBe('f\n');
    expect(readFileSync(join(d, 'up/etc/viaclimb'), 'utf8')).toBe('f\n');
  });

  it('copies up the directories on the way, with the image\'s modes; replaces a whiteout; a tree with its links', async () => {
    writeFileSync(join(d, 'host/f'), 'f\n');
    await copyToContainer(c, join(d, 'host/f'), '/data/', false);
    expect(lstatSync(join(d, 'up/data')).isDirectory()).toBe(true);
    expect(readFileSync(join(d, 'up/data/f'), 'utf8')).toBe('f\n');
    await copyToContainer(c, join(d, 'host/f'), '/added', false);
    expect(readFileSync(join(d, 'up/added'), 'utf8')).toBe('f\n');
    mkdirSync(join(d, 'host/tree/sub'), { recursive: true });
    writeFileSync(join(d, 'host/tree/sub/x'), 'x\n');
    symlinkSync('/etc/shadow', join(d, 'host/tree/link'));
    await copyToContainer(c, join(d, 'host/tree'), '/', false);
    expect(readFileSync(join(d, 'up/tree/sub/x'), 'utf8')).toBe('x\n');
    expect(readlinkSync(join(d, 'up/tree/link'))).toBe('/etc/shadow');
  });

  it('refuses a directory over a file, a file over a directory, and a missing parent, writing nothing', async () => {
    mkdirSync(join(d, 'host/dir'));
    writeFileSync(join(d, 'host/f'), 'f\n');
    await expect(copyToContainer(c, join(d, 'host/dir'), '/etc/motd', false)).rejects.toThrow('cannot overwrite non-directory /etc/motd with a directory');
    await expect(copyToContainer(c, join(d, 'host/f'), '/no/such/x', false)).rejects.toThrow('could not find the directory of /no/such/x in container box');
    expect(existsSync(join(d, 'up/no'))).toBe(false);
    await expect(copyToContainer(c, join(d, 'host/missing'), '/x', false)).rejects.toThrow('could not find the file');
  });
});
