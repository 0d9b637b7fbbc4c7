// Layered images on a real kernel (docs/protocol.md "OVERLAY", docs/core-abi.md "Layers"): the
// layers a test makes, stacked by overlayfs one `lowerdir+` at a time (or, forced, by the
// mount(2) fallback with short names), show the merged view the OCI image spec defines —
// a whiteout (char device 0/0) hides a lower file, an opaque directory hides a lower
// directory's contents — for 3 layers and for 300; 501 are refused before anything runs.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import { buildPlanAnswer, type PlanRequest } from '../../ts/core/build-plan.js';
import { describePlanBytes } from '../../ts/core/describe.js';
import { describePlan } from '../../ts/protocol/describe.js';
import { prepare } from '../../ts/runtime/prepare.js';
import { launch } from '../../ts/runtime/launcher.js';
import { applyFsOps, S_IFCHR } from '../../ts/runtime/fs-ops.js';
import { HuskError } from '../../ts/errors.js';
import { suiteDir, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();
const rootfs = suiteRootfs();
const base = suiteDir('layers', { mode: 0o755 });

/** The request `husk run [FLAGS] --rootfs R CMD` makes, with the image swapped for `image`. */
function layeredRequest(image: PlanRequest['image'], argv: string[], flags: string[] = []): PlanRequest {
  const command = parseArgs(['run', '--network', 'none', ...flags, '--rootfs', rootfs, ...argv]);
  if (command.name !== 'run') throw new Error('not a run command');
  const prepared = prepare(command.flags, { root, usedRanges: [], dieWithParent: true });
  return { ...prepared.request, image };
}

/** Runs `argv` on the layers; stdout and the exit status, as a user of `husk run` sees them. */
async function runLayers(image: PlanRequest['image'], argv: string[], flags: string[] = []): Promise<{ status: number; out: string; error?: string }> {
  const request = layeredRequest(image, argv, flags);
  mkdirSync(request.stage, { recursive: true }); // as `husk run` makes it
  const plan = buildPlanAnswer(request).plan;
  const outFile = join(base, `out-${process.hrtime.bigint()}`);
  const fd = openSync(outFile, 'w');
  try {
    let error: string | undefined;
    const outcome = await launch(plan, { stdio: ['ignore', fd, fd], onEvent: (ev) => ev.kind === 'error' && (error ??= `${ev.message}: errno ${ev.errno}`) });
    const out = readFileSync(outFile, 'utf8');
    const status = outcome.exit.how === 'exited' ? outcome.exit.value : outcome.exit.how === 'signaled' ? 128 + outcome.exit.value : outcome.exit.value;
    return { status, out, error };
  } finally {
    closeSync(fd);
    rmSync(outFile);
  }
}

let n = 0;
/** A fresh directory for one test's layers. */
function layersDir(): string {
  const dir = join(base, `set-${n++}`);
  mkdirSync(dir);
  return dir;
}

/** A layer directory with `files` (path → content) in it. */
function layer(dir: string, name: string, files: Record<string, string> = {}): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(d, path, '..'), { recursive: true });
    writeFileSync(join(d, path), content);
  }
  return d;
}

/**
 * Three layers over the busybox rootfs: the second adds /data/a, /data/b, /opt/old and
 * changes /etc/motd; the third deletes /data/a (a whiteout) and replaces /opt (opaque, in
 * the namespace the overlay reads: trusted.* for a rootful one, user.* in a user namespace).
 */
async function threeLayers(userns = false): Promise<{ lowers: string[]; dir: string }> {
  const dir = layersDir();
  const bottom = layer(dir, 'bottom');
  const r = await import('node:child_process').then((cp) => cp.spawnSync('cp', ['-a', `${rootfs}/.`, bottom]));
  expect(r.status).toBe(0);
  const middle = layer(dir, 'middle', { 'data/a': 'a\n', 'data/b': 'b\n', 'opt/old': 'old\n', 'etc/motd': 'from the middle layer\n' });
  const top = layer(dir, 'top', { 'opt/new': 'new\n' });
  mkdirSync(join(top, 'data'));
  await applyFsOps(top, [
    { op: 'mknod', path: 'data/a', mode: S_IFCHR, rdev: 0 },
    { op: 'setxattr', path: 'opt', name: userns ? 'user.overlay.opaque' : 'trusted.overlay.opaque', value: Buffer.from('y') },
  ]);
  return { lowers: [bottom, middle, top], dir };
}

const MERGED = 'ls /data; cat /etc/motd; ls /opt; echo written > /data/c; rm /data/b; ls /data';
const MERGED_OUT = 'b\nfrom the middle layer\nnew\nc\n';
/** How the root overlay was made, as the kernel shows its options: `lowerdir+=` (one layer at a time) or `lowerdir=…`. */
const HOW = `grep " / / " /proc/self/mountinfo | grep -o "lowerdir+=\\|lowerdir=[^,]*" | head -1`;

describe('layered images', () => {
  it('show the merged view: a whiteout hides a lower file, an opaque directory hides its lower contents, the top layer wins', async () => {
    const { lowers } = await threeLayers();
    const r = await runLayers({ kind: 'layers', lowers }, ['sh', '-c', `${MERGED}; ${HOW}`]);
    expect(r.error).toBeUndefined();
    expect(r.out).toBe(`${MERGED_OUT}lowerdir+=\n`);
    expect(r.status).toBe(0);
    // Writes went to the stage's upper (gone with the container): the layers are untouched.
    expect(readdirSync(join(lowers[1], 'data')).sort()).toEqual(['a', 'b']);
    expect(existsSync(join(lowers[2], 'data/c'))).toBe(false);
  });

  it('keep what the container writes in a persistent upper on disk, with overlay whiteouts for deletions', async () => {
    const { lowers, dir } = await threeLayers();
    const upper = { upper: join(dir, 'upper'), work: join(dir, 'work') };
    mkdirSync(upper.upper);
    mkdirSync(upper.work);
    const r = await runLayers({ kind: 'layers', lowers, upper }, ['sh', '-c', MERGED]);
    expect(r.out).toBe(MERGED_OUT);
    expect(readFileSync(join(upper.upper, 'data/c'), 'utf8')).toBe('written\n');
    const deleted = statSync(join(upper.upper, 'data/b'));
    expect(deleted.isCharacterDevice() && deleted.rdev === 0).toBe(true);
    // A second run on the same upper sees the first one's changes.
    const again = await runLayers({ kind: 'layers', lowers, upper }, ['sh', '-c', 'ls /data; cat /data/c']);
    expect(again.out).toBe('c\nwritten\n');
  });

  it('show the same merged view through the mount(2) fallback with short names', async () => {
    const { lowers } = await threeLayers();
    const r = await runLayers({ kind: 'layers', lowers, legacyOverlay: true }, ['sh', '-c', `${MERGED}; ${HOW}`]);
    expect(r.error).toBeUndefined();
    expect(r.out).toBe(`${MERGED_OUT}lowerdir=0:1:2\n`); // the short names, relative to the links directory
    expect(r.status).toBe(0);
  });

  it('show the merged view in a user namespace: layers idmapped (root-owned files are root inside), user.overlay.opaque honoured', async () => {
    const { lowers } = await threeLayers(true);
    const r = await runLayers({ kind: 'layers', lowers }, ['sh', '-c', `${MERGED}; stat -c %u:%g /etc/motd /bin/busybox; grep -c userxattr /proc/self/mountinfo; cat /proc/self/uid_map`], ['--userns', 'auto']);
    expect(r.error).toBeUndefined();
    const [merged, owners, map] = [r.out.slice(0, MERGED_OUT.length), r.out.slice(MERGED_OUT.length).split('\n').slice(0, 3), r.out.split('\n').slice(-2)[0]];
    expect(merged).toBe(MERGED_OUT);
    expect(owners).toEqual(['0:0', '0:0', '1']); // idmapped; the one userxattr overlay is the root
    expect(map.trim().split(/\s+/)[1]).not.toBe('0'); // really a user namespace: root inside is not host root
    expect(r.status).toBe(0);
  });

  it('keep a user-namespaced container\'s writes in a persistent upper owned as inside (0 on disk, no chown), seen again by a second run', async () => {
    const { lowers, dir } = await threeLayers(true);
    const upper = { upper: join(dir, 'upper'), work: join(dir, 'work') };
    mkdirSync(upper.upper);
    mkdirSync(upper.work);
    const flags = ['--userns', 'auto'];
    const r = await runLayers({ kind: 'layers', lowers, upper }, ['sh', '-c', `${MERGED}; stat -c %u /data/c`], flags);
    expect(r.error).toBeUndefined();
    expect(r.out).toBe(`${MERGED_OUT}0\n`);
    const written = statSync(join(upper.upper, 'data/c'));
    expect([written.uid, readFileSync(join(upper.upper, 'data/c'), 'utf8')]).toEqual([0, 'written\n']);
    const deleted = statSync(join(upper.upper, 'data/b'));
    expect(deleted.isCharacterDevice() && deleted.rdev === 0).toBe(true);
    const again = await runLayers({ kind: 'layers', lowers, upper }, ['sh', '-c', 'ls /data; cat /data/c'], flags);
    expect(again.out).toBe('c\nwritten\n');
  });

  for (const legacyOverlay of [false, true]) {
    it(`stack 300 layers, each seen, the topmost winning (${legacyOverlay ? 'mount(2) fallback' : 'lowerdir+'})`, async () => {
      const dir = layersDir();
      const lowers = [rootfs];
      for (let i = 1; i < 300; i++) lowers.push(layer(dir, String(i), { [`layers/${i}`]: '', top: `${i}\n` }));
      const r = await runLayers({ kind: 'layers', lowers, legacyOverlay }, ['sh', '-c', `ls /layers | wc -l; cat /top; ${HOW}`]);
      expect(r.error).toBeUndefined();
      const how = legacyOverlay ? `lowerdir=${Array.from({ length: 300 }, (_, i) => i).join(':')}` : 'lowerdir+=';
      expect(r.out.split(/\s+/).filter(Boolean)).toEqual(['299', '299', how]);
      expect(r.status).toBe(0);
    });
  }

  it('refuse 501 layers before anything runs, naming the count (exit status 125); 500 make a plan', () => {
    const lowers = Array.from({ length: 501 }, (_, i) => `/var/lib/husk/layers/${i}/diff`);
    let err: unknown;
    try {
      buildPlanAnswer(layeredRequest({ kind: 'layers', lowers }, ['true']));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HuskError);
    expect((err as HuskError).message).toBe('image has 501 layers; overlayfs stacks at most 500');
    expect((err as HuskError).exitStatus).toBe(125);
    const plan = buildPlanAnswer(layeredRequest({ kind: 'layers', lowers: lowers.slice(0, 500) }, ['true'])).plan;
    const text = describePlan(describePlanBytes(plan));
    expect(text).toMatch(/overlay of 500 layers \(top first: \/var\/lib\/husk\/layers\/499\/diff:/);
  });
});
