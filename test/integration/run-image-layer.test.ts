// A container that outlives its run keeps its writable layer on disk in the store: diff,
// commit (round trip load → run → write, delete → commit → save → load → run), export, and
// cp both ways — path-safe against symlinks an image or a container planted.
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { husk, removeAllContainers, sleep, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildLayout, busyboxImage, busyboxRootfs, sh } from './images-fixture.js';

const { root } = useLeakCheck({ cleanup: (r) => removeAllContainers(r) });
const work = suiteDir('run-image-layer-work');
const storage = suiteDir('run-image-layer-storage');
const hostSide = suiteDir('run-image-layer-host');

const hk = (args: string[], opts: { input?: string } = {}) => husk(root, ['--storage', storage, ...args], opts);
const IMAGE = 'husk-test/busybox:3layers';
const HOSTILE = 'husk-test/hostile:1';

/** Runs `script` in a new -d container of `image` and waits until it has exited; its id. */
async function ranDetached(image: string, script: string, name?: string): Promise<string> {
  const r = hk(['run', '--network', 'none', '-d', ...(name ? ['--name', name] : []), image, 'sh', '-c', script]);
  expect(r.status, r.stderr).toBe(0);
  const id = r.stdout.trim();
  for (let i = 0; i < 500; i++) {
    const r2 = hk(['inspect', id]);
    if (r2.status === 0 && JSON.parse(r2.stdout)[0]?.State?.Status === 'exited') return id;
    await sleep(20);
  }
  throw new Error(`container ${id} did not exit`);
}

beforeAll(() => {
  const img = busyboxImage(join(work, 'a'), IMAGE);
  expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
  // Symlinks that lead out of the image if anything followed them on the host.
  const base = join(work, 'hostile-base');
  busyboxRootfs(base);
  sh('ln -s /etc/shadow "$1/evil"; ln -s /etc "$1/evildir"; ln -s ../../../../../../../../etc "$1/updir"; mkdir -p "$1/opt"', base);
  const hostile = buildLayout(join(work, 'h'), [{ dir: base, compression: 'gzip' }], { tag: HOSTILE });
  expect(hk(['load', '-q', '-i', hostile.dir]).status).toBe(0);
}, 120_000);

describe('diff', () => {
  it('lists A, C and D as docker does: added, changed, deleted (whiteouts), an opaque directory\'s lost entries', async () => {
    const id = await ranDetached(IMAGE, 'echo new > /new; echo changed > /etc/motd; rm /added3; rm -r /opq; mkdir /opq; echo fresh > /opq/fresh');
    const r = hk(['diff', id]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(['D /added3', 'C /etc', 'C /etc/motd', 'A /new', 'C /opq', 'D /opq/c', 'A /opq/fresh', ''].join('\n'));
    expect(hk(['rm', id]).status).toBe(0);
  });

  it('the writable layer is on disk under the store, and rm removes it', async () => {
    const id = await ranDetached(IMAGE, 'echo x > /x');
    expect(readFileSync(join(storage, 'containers', id, 'upper/x'), 'utf8')).toBe('x\n');
    expect(hk(['rm', id]).status).toBe(0);
    expect(existsSync(join(storage, 'containers', id))).toBe(false);
  });

  it('a -d --rm container has its layer on disk while it runs; it goes with the container', async () => {
    const id = hk(['run', '--network', 'none', '-d', '--rm', IMAGE, 'sleep', '30']).stdout.trim();
    expect(existsSync(join(storage, 'containers', id, 'upper'))).toBe(true);
    expect(hk(['rm', '-f', id]).status).toBe(0);
    expect(existsSync(join(storage, 'containers', id))).toBe(false);
  });
});

describe('commit', () => {
  it('round trip: run → write, delete → commit → save → load → run sees the same files', async () => {
    const id = await ranDetached(IMAGE, 'echo committed > /etc/motd; echo new > /new; rm /data/keep; rm -r /opq; mkdir /opq; echo only > /opq/only');
    const c = hk(['commit', '-m', 'a test', id, 'husk-test/committed:1']);
    expect(c.stderr).toBe('');
    expect(c.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(hk(['rm', id]).status).toBe(0);
    const check = 'cat /etc/motd /new; ls /data; echo --; ls /opq; test -e /added3 && echo added3';
    const want = 'committed\nnew\n--\nonly\nadded3\n';
    expect(hk(['run', '--network', 'none', 'husk-test/committed:1', 'sh', '-c', check]).stdout).toBe(want);
    const tar = join(hostSide, 'committed.tar');
    const s = hk(['save', '-o', tar, 'husk-test/committed:1']);
    expect(s.status, s.stderr).toBe(0);
    expect(hk(['rmi', 'husk-test/committed:1']).status).toBe(0);
    const l = hk(['load', '-q', '-i', tar]);
    expect(l.status, l.stderr).toBe(0);
    expect(hk(['run', '--network', 'none', 'husk-test/committed:1', 'sh', '-c', check]).stdout).toBe(want);
  });

  it('keeps the parent\'s config and history, adds a layer and a history entry', async () => {
    const id = await ranDetached(IMAGE, 'echo x > /x');
    expect(hk(['commit', id, 'husk-test/committed:2']).status).toBe(0);
    hk(['rm', id]);
    const inspect = JSON.parse(hk(['image', 'inspect', 'husk-test/committed:2']).stdout)[0];
    expect(inspect.RootFS.Layers.length).toBe(4);
    expect(hk(['run', '--network', 'none', 'husk-test/committed:2']).stdout).toBe('layer2\n'); // the Cmd kept
  });
});

describe('export', () => {
  it('writes the merged view as a tar: no whiteouts, the container\'s changes in', async () => {
    const id = await ranDetached(IMAGE, 'echo e > /exported; rm /data/keep');
    const out = join(hostSide, 'export.tar');
    const r = hk(['export', '-o', out, id]);
    expect(r.status, r.stderr).toBe(0);
    const names = sh('tar -tf "$1"', out).split('\n');
    expect(names).toContain('exported');
    expect(names).toContain('etc/motd');
    expect(names).toContain('opq/c');
    expect(names.some((n) => n.includes('.wh.'))).toBe(false);
    expect(names).not.toContain('data/keep');
    expect(names).not.toContain('opq/a');
    expect(sh('tar -xOf "$1" etc/motd', out)).toBe('layer2\n');
    hk(['rm', id]);
  });
});

describe('cp', () => {
  it('copies a file out and in; the container sees what was copied in', async () => {
    const id = await ranDetached(IMAGE, 'echo from-inside > /inside.txt', 'cpbox');
    const out = join(hostSide, 'out.txt');
    expect(hk(['cp', 'cpbox:/inside.txt', out]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('from-inside\n');
    const dirOut = join(hostSide, 'etc-out');
    expect(hk(['cp', 'cpbox:/opq', dirOut]).status).toBe(0);
    expect(sh('ls "$1"', dirOut)).toBe('c\n');
    writeFileSync(join(hostSide, 'in.txt'), 'from-host\n');
    expect(hk(['cp', join(hostSide, 'in.txt'), 'cpbox:/data/']).status).toBe(0);
    expect(readFileSync(join(storage, 'containers', id, 'upper/data/in.txt'), 'utf8')).toBe('from-host\n');
    const c = hk(['commit', 'cpbox', 'husk-test/cp:1']);
    expect(c.status, c.stderr).toBe(0);
    expect(hk(['run', '--network', 'none', 'husk-test/cp:1', 'cat', '/data/in.txt', '/data/keep']).stdout).toBe('from-host\nkeep\n');
  });

  it('a symlink to /etc/shadow in the image is copied as a link, never the host\'s file; -L follows it inside', async () => {
    await ranDetached(HOSTILE, 'true', 'hostile');
    const out = join(hostSide, 'evil-out');
    expect(hk(['cp', 'hostile:/evil', out]).status).toBe(0);
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(readlinkSync(out)).toBe('/etc/shadow');
    const followed = hk(['cp', '-L', 'hostile:/evil', join(hostSide, 'evil-followed')]);
    expect(followed.status).toBe(125);
    expect(followed.stderr).toMatch(/could not find the file \/evil in container hostile/);
    expect(existsSync(join(hostSide, 'evil-followed'))).toBe(false);
    // Through a directory symlink: the image's /etc, not the host's.
    expect(hk(['cp', 'hostile:/evildir/passwd', join(hostSide, 'passwd-out')]).status).toBe(0);
    expect(readFileSync(join(hostSide, 'passwd-out'), 'utf8')).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\nnobody/);
    expect(hk(['cp', 'hostile:/updir/passwd', join(hostSide, 'passwd-up')]).status).toBe(0);
    expect(readFileSync(join(hostSide, 'passwd-up'), 'utf8')).not.toBe(readFileSync('/etc/passwd', 'utf8'));
  });

  it('copying in through symlinks lands inside the container, never on the host', async () => {
    const id = await ranDetached(HOSTILE, 'ln -s /etc /made-inside', 'hostile-in');
    const marker = `husk-test-${process.pid}-cp-marker`;
    writeFileSync(join(hostSide, marker), 'x\n');
    expect(hk(['cp', join(hostSide, marker), 'hostile-in:/evildir/']).status).toBe(0);
    expect(hk(['cp', join(hostSide, marker), 'hostile-in:/updir/']).status).toBe(0);
    expect(hk(['cp', join(hostSide, marker), 'hostile-in:/made-inside/']).status).toBe(0);
    expect(existsSync(join('/etc', marker))).toBe(false);
    expect(readFileSync(join(storage, 'containers', id, 'upper/etc', marker), 'utf8')).toBe('x\n');
    // Onto a symlink whose target the image lacks (/evil -> /etc/shadow): the link is replaced inside.
    expect(hk(['cp', join(hostSide, marker), 'hostile-in:/evil']).status).toBe(0);
    expect(readFileSync(join(storage, 'containers', id, 'upper/evil'), 'utf8')).toBe('x\n');
    expect(readFileSync('/etc/shadow', 'utf8')).not.toBe('x\n');
  });

  it('bad paths: one clear line, 125, nothing written', async () => {
    await ranDetached(IMAGE, 'true', 'cpbad');
    const missing = hk(['cp', 'cpbad:/no/such', join(hostSide, 'nothing')]);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toBe('husk: could not find the file /no/such in container cpbad\n');
    const noDir = hk(['cp', join(hostSide, 'in.txt'), 'cpbad:/no/such/dir/x']);
    expect(noDir.status).toBe(125);
    expect(noDir.stderr).toMatch(/^husk: could not find the directory of \/no\/such\/dir\/x in container cpbad/);
    mkdirSync(join(hostSide, 'adir'), { recursive: true });
    const dirOverFile = hk(['cp', join(hostSide, 'adir'), 'cpbad:/etc/motd']);
    expect(dirOverFile.status).toBe(125);
    expect(dirOverFile.stderr).toMatch(/cannot overwrite non-directory \/etc\/motd with a directory/);
  });
});
