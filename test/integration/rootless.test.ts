// Rootless husk on the real kernel: a throwaway user (rootless-user.ts) runs containers in a
// user namespace of its own — its uid as root inside, plus its subordinate ids through
// newuidmap/newgidmap when it has some — with its state in its own places, limits refused
// with the reason on this host, and no sight of root's containers (nor root of its).
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { husk, suiteDir, suiteRootfs } from './helpers.js';
import { leftovers, useLeakCheck } from './leak-check.js';
import { pidsOf, useTestUser } from './rootless-user.js';

const { root } = useLeakCheck();
const user = useTestUser();
/** Root's busybox rootfs, 0755: the user reads it, cannot write it. */
const rootfs = suiteRootfs();
/** The same tree owned by the user (for --rootfs-rw), with a private file of its own. */
const own = suiteDir('rl-own', {
  fill: (dir) => {
    cpSync(rootfs, dir, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(dir, 'private'), 'only mine\n', { mode: 0o600 });
    // The user exists by now (its beforeAll ran first).
    const c = spawnSync('chown', ['-R', '-h', `${user.uid}:${user.gid}`, dir]);
    if (c.status !== 0) throw new Error(`chown -R ${dir} failed`);
  },
});

const stateDir = () => join(user.home, 'run/husk');
const lines = (s: string) => s.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));

/** Nothing but husk's own empty directories left in the user's state. */
function expectUserStateEmpty(): void {
  if (existsSync(stateDir())) expect(leftovers(stateDir())).toEqual([]);
}

describe('a user without subordinate ids: its own uid is root inside, alone', () => {
  beforeEach(() => user.setRanges(undefined));

  it('run --rootfs DIR id: uid 0 inside, uid_map is the caller alone, a one-line note says what that limits', () => {
    const r = user.husk(['run', '--rootfs', rootfs, 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map']);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['0', '0', `0 ${user.uid} 1`, `0 ${user.gid} 1`]);
    expect(r.stderr).toBe(
      `husk: note: the container maps only your uid ${user.uid} and gid ${user.gid} (as its root): files of other owners show as nobody and chown to other ids fails; ` +
      `for more ids add a range of your own to /etc/subuid and /etc/subgid (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user.name})\n`);
    // Its state is under $XDG_RUNTIME_DIR/husk, 0700 and its own; nothing of it is left.
    const st = statSync(stateDir());
    expect([st.uid, st.mode & 0o777]).toEqual([user.uid, 0o700]);
    expectUserStateEmpty();
  });

  it('alice: her private file reads as root\'s inside her namespace and as hers outside; what root makes inside is hers', () => {
    const r = user.husk(['run', '--rootfs', own, '--rootfs-rw', 'sh', '-c', 'stat -c %u:%g:%a /private; cat /private; echo x > /made-inside; stat -c %u:%g /made-inside; stat -c %U /etc/motd']);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['0:0:600', 'only mine', '0:0', 'root']);
    const host = statSync(join(own, 'made-inside'));
    expect([host.uid, host.gid]).toEqual([user.uid, user.gid]);
    expect(statSync(join(own, 'private')).uid).toBe(user.uid);
    rmSync(join(own, 'made-inside'));
  });

  it('root\'s files show as nobody, and chown to an unmapped id fails inside', () => {
    const r = user.husk(['run', '--rootfs', rootfs, 'sh', '-c', 'stat -c %u /etc/motd; touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chowned || echo refused']);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['65534', 'refused']);
  });

  it('without $XDG_RUNTIME_DIR the state is /tmp/husk-UID, made 0700 and its own; one planted by another user is refused', () => {
    const fallback = `/tmp/husk-${user.uid}`;
    try {
      const r = user.husk(['run', '--rootfs', rootfs, 'true'], { env: { XDG_RUNTIME_DIR: undefined } });
      expect(r.status, r.stderr).toBe(0);
      const st = statSync(fallback);
      expect([st.uid, st.mode & 0o777]).toEqual([user.uid, 0o700]);
      expect(user.husk(['info'], { env: { XDG_RUNTIME_DIR: undefined } }).stdout).toContain(`state: ${fallback}`);
      rmSync(fallback, { recursive: true });
      mkdirSync(fallback, { mode: 0o755 }); // root's, where the user's would go
      const planted = user.husk(['run', '--rootfs', rootfs, 'true'], { env: { XDG_RUNTIME_DIR: undefined } });
      expect(planted.status).toBe(125);
      expect(planted.stderr).toBe(`husk: cannot use state directory ${fallback}: it belongs to uid 0, not to you (uid ${user.uid}): remove it, or pass --root DIR of your own\n`);
      expect(leftovers(fallback)).toEqual([]);
    } finally {
      rmSync(fallback, { recursive: true, force: true });
    }
  });

  it('husk info shows the user\'s places', () => {
    const r = user.husk(['info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`state: ${stateDir()}`);
    expect(r.stdout).toContain(`images: ${join(user.home, '.local/share/husk')}`);
    expect(r.stdout).toMatch(/^user namespace: uid \d+ → root inside, alone \(no subordinate ids\)$/m);
  });

  const refusals: [string, string[], Record<string, string | undefined>, RegExp][] = [
    ['--memory on this hybrid host', ['--memory', '64m'], {}, /^husk: --memory: husk cannot enforce limits without root here: .*\n/],
    ['--pids-limit on this hybrid host', ['--pids-limit', '10'], {}, /^husk: --pids-limit: husk cannot enforce limits without root here: /],
    ['keep-id without subordinate ids', ['--userns', 'keep-id'], {}, /^husk: userns: keep-id needs subordinate ids of yours for the container's root, and you have none: add a range .*usermod --add-subuids/],
    ['auto without subordinate ids', ['--userns', 'auto'], {}, /^husk: userns: auto needs subordinate ids of yours, and you have none: add a range/],
    ['--uidmap of ids not its own', ['--uidmap', '0:100000:10'], {}, /^husk: uidmap: "0:100000:10": host ids 100000-100009 are not yours/],
  ];
  it.each(refusals)('%s: one line naming the fix, exit 125, nothing left', (_name, flags, env, message) => {
    const r = user.husk(['run', ...flags, '--rootfs', rootfs, 'true'], { env });
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/internal error/);
    expectUserStateEmpty();
  });

  it('a state directory the user cannot write: one line naming the fix, exit 125, nothing made', () => {
    const dir = join(root, 'not-the-users', 'state');
    const r = user.husk(['--root', dir, 'run', '--rootfs', rootfs, 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(`husk: cannot use state directory ${dir}: EACCES: not writable by you (uid ${user.uid}); pass --root DIR of your own (or set XDG_RUNTIME_DIR to a directory of yours)\n`);
    expect(existsSync(join(root, 'not-the-users'))).toBe(false);
  });

  it('--privileged: the host\'s device nodes are bound in too, and open no more than they would for the user', () => {
    const r = user.husk(['run', '--rootfs', rootfs, '--privileged', 'sh', '-c', "stat -c '%t:%T' /dev/loop-control; test -e /dev/console || echo no-console; (exec 3<>/dev/loop-control) 2>/dev/null || echo not-opened"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('a:ed\nno-console\nnot-opened\n');
    expectUserStateEmpty();
  });
});

describe('a user with subordinate ids: its uid and its range', () => {
  const start = 300000;
  beforeEach(() => user.setRanges({ start, count: 65536 }));

  it('uid_map shows the caller and its range; root\'s file is the user\'s on the host, uid 1000\'s is its subordinate id', () => {
    const r = user.husk(['run', '--rootfs', own, '--rootfs-rw', 'sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; touch /f0 /f1000; chown 1000:1000 /f1000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([`0 ${user.uid} 1`, `1 ${start} 65536`, `0 ${user.gid} 1`, `1 ${start} 65536`]);
    const f0 = statSync(join(own, 'f0'));
    const f1000 = statSync(join(own, 'f1000'));
    expect([f0.uid, f0.gid]).toEqual([user.uid, user.gid]);
    expect([f1000.uid, f1000.gid]).toEqual([start + 999, start + 999]);
    rmSync(join(own, 'f0'));
    rmSync(join(own, 'f1000'));
  });

  it('--userns keep-id: the user keeps its uid inside; auto and --uidmap take ids from its range', () => {
    const keep = user.husk(['run', '--userns', 'keep-id', '--rootfs', rootfs, 'sh', '-c', 'id -u; id -g']);
    expect(keep.status, keep.stderr).toBe(0);
    expect(lines(keep.stdout)).toEqual([String(user.uid), String(user.gid)]);
    const auto = user.husk(['run', '--userns', 'auto:size=1000', '--rootfs', rootfs, 'cat', '/proc/self/uid_map']);
    expect(auto.status, auto.stderr).toBe(0);
    expect(lines(auto.stdout)).toEqual([`0 ${start} 1000`, `1000 ${user.uid} 1`]);
    const maps = user.husk(['run', '--uidmap', `0:${user.uid}:1`, '--uidmap', `1:${start}:100`, '--rootfs', rootfs, 'cat', '/proc/self/uid_map']);
    expect(maps.status, maps.stderr).toBe(0);
    expect(lines(maps.stdout)).toEqual([`0 ${user.uid} 1`, `1 ${start} 100`]);
  });

  it('newuidmap missing (HUSK_NEWUIDMAP empty): a run without flags falls back to its own id with a note naming the package; auto refuses naming it', () => {
    const env = { HUSK_NEWUIDMAP: '' };
    const plain = user.husk(['run', '--rootfs', rootfs, 'cat', '/proc/self/uid_map'], { env });
    expect(plain.status, plain.stderr).toBe(0);
    expect(lines(plain.stdout)).toEqual([`0 ${user.uid} 1`]);
    expect(plain.stderr).toMatch(/^husk: note: the container maps only your uid .*; newuidmap and newgidmap are not installed \(install the uidmap package\)\n$/);
    const auto = user.husk(['run', '--userns', 'auto', '--rootfs', rootfs, 'true'], { env });
    expect(auto.status).toBe(125);
    expect(auto.stderr).toBe('husk: userns: mapping your subordinate ids needs newuidmap and newgidmap, which are not installed: install the uidmap package (apt-get install uidmap)\n');
    expectUserStateEmpty();
  });

  it('a range newuidmap refuses (the file changed under husk): the helper\'s own words, exit 125, nothing left', () => {
    // husk reads the ranges from a file of the user's; newuidmap checks /etc/subuid, which has none.
    const fake = join(user.home, 'subuid');
    user.setRanges(undefined);
    const w = user.run(['sh', '-c', `echo ${user.name}:${start}:65536 > ${fake}`]);
    expect(w.status).toBe(0);
    const r = user.husk(['run', '--subuid-file', fake, '--subgid-file', fake, '--rootfs', rootfs, 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: setting up the container failed: op \d+ \(idmap_helper\): \/usr\/bin\/newuidmap \d+: newuidmap: .*: operation not permitted\n$/);
    expectUserStateEmpty();
  });
});

describe('images as a user', () => {
  beforeEach(() => user.setRanges(undefined));

  it('import and run IMAGE: the store is the user\'s (~/.local/share/husk), its layers the user\'s files, root\'s inside', () => {
    const tar = join(own, '..', `${own.split('/').pop()}.tar`);
    const t = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']);
    expect(t.status).toBe(0);
    try {
      const imp = user.husk(['import', tar, 'rl:1']);
      expect(imp.status, imp.stderr).toBe(0);
      const store = join(user.home, '.local/share/husk');
      expect(statSync(store).uid).toBe(user.uid);
      const r = user.husk(['run', 'rl:1', 'sh', '-c', 'stat -c %u /bin/busybox; cat /etc/motd; echo w > /etc/motd && cat /etc/motd']);
      expect(r.status, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(['0', 'hello-from-rootfs', 'w']);
      const rmi = user.husk(['rmi', 'rl:1']);
      expect(rmi.status, rmi.stderr).toBe(0);
      expect(user.husk(['images', '-q']).stdout).toBe('');
    } finally {
      rmSync(tar, { force: true });
    }
    expectUserStateEmpty();
  });
});

describe('images as a user with subordinate ids: owners shifted into the range, as podman does', () => {
  const start = 300000;
  beforeEach(() => user.setRanges({ start, count: 65536 }));

  for (const stream of ['never', 'always']) {
    it(`import an image whose files are owned by 0, 1000 and 65534: those owners inside, START + N - 1 on disk; rmi removes it (HUSK_UNPACK_STREAM=${stream})`, () => {
      // Root builds the tree with the owners an image has, and tars it with numeric owners.
      const tree = join(own, '..', `${own.split('/').pop()}-owners-${stream}`);
      const tar = `${tree}.tar`;
      cpSync(rootfs, tree, { recursive: true, verbatimSymlinks: true });
      try {
        writeFileSync(join(tree, 'owned0'), '0\n');
        writeFileSync(join(tree, 'owned1000'), '1000\n');
        writeFileSync(join(tree, 'owned65534'), 'nobody\n');
        mkdirSync(join(tree, 'home1000'), { mode: 0o700 });
        writeFileSync(join(tree, 'home1000/secret'), 's\n', { mode: 0o600 });
        writeFileSync(join(tree, 'setuid1000'), '#!/bin/sh\n', { mode: 0o4755 });
        for (const [f, id] of [['owned1000', 1000], ['owned65534', 65534], ['home1000', 1000], ['home1000/secret', 1000], ['setuid1000', 1000]] as const) {
          expect(spawnSync('chown', ['-h', `${id}:${id}`, join(tree, f)]).status).toBe(0);
        }
        expect(spawnSync('chmod', ['4755', join(tree, 'setuid1000')]).status).toBe(0);
        expect(spawnSync('tar', ['--numeric-owner', '-C', tree, '-cf', tar, '.']).status).toBe(0);
        expect(spawnSync('chmod', ['0644', tar]).status).toBe(0);

        const imp = user.husk(['import', tar, 'rl:owners'], { env: { HUSK_UNPACK_STREAM: stream } });
        expect(imp.status, imp.stderr).toBe(0);
        const r = user.husk(['run', 'rl:owners', 'sh', '-c', 'stat -c %u:%g /owned0 /owned1000 /owned65534 /home1000 /home1000/secret /bin/busybox; stat -c %a /setuid1000; cat /home1000/secret']);
        expect(r.status, r.stderr).toBe(0);
        expect(lines(r.stdout)).toEqual(['0:0', '1000:1000', '65534:65534', '1000:1000', '1000:1000', '0:0', '4755', 's']);

        // On disk: root's files are the user's, uid N's are START + N - 1.
        const layers = join(user.home, '.local/share/husk/layers');
        const diffs = readdirSync(layers).map((hex) => join(layers, hex, 'diff')).filter((d) => existsSync(join(d, 'owned1000')));
        expect(diffs.length).toBe(1);
        const owner = (f: string) => { const st = lstatSync(join(diffs[0], f)); return [st.uid, st.gid]; };
        expect(owner('owned0')).toEqual([user.uid, user.gid]);
        expect(owner('owned1000')).toEqual([start + 999, start + 999]);
        expect(owner('owned65534')).toEqual([start + 65533, start + 65533]);
        expect(owner('home1000')).toEqual([start + 999, start + 999]);
        expect(lstatSync(join(diffs[0], 'setuid1000')).mode & 0o7777).toBe(0o4755);

        // The user cannot remove a directory of uid 1000's alone; rmi does it in its namespace.
        const rmi = user.husk(['rmi', 'rl:owners']);
        expect(rmi.status, rmi.stderr).toBe(0);
        expect(user.husk(['images', '-q']).stdout).toBe('');
        expect(readdirSync(layers)).toEqual([]);
      } finally {
        rmSync(tree, { recursive: true, force: true });
        rmSync(tar, { force: true });
      }
      expectUserStateEmpty();
    });
  }

  it('a layer whose owners cannot be shifted (the helper refuses): one line naming it, exit 125, nothing left in the store', () => {
    const tar = join(own, '..', `${own.split('/').pop()}-refused.tar`);
    expect(spawnSync('tar', ['--numeric-owner', '--owner=1000', '--group=1000', '-C', rootfs, '-cf', tar, './etc']).status).toBe(0);
    expect(spawnSync('chmod', ['0644', tar]).status).toBe(0);
    try {
      const imp = user.husk(['import', tar, 'rl:refused'], { env: { HUSK_NEWUIDMAP: '/bin/false' } });
      expect(imp.status).toBe(125);
      // The progress line, then the one error line.
      expect(imp.stderr.split('\n').slice(-2)[0]).toMatch(/^husk: layer .*: \/bin\/false \d+: refused, saying nothing: EPERM \(operation not permitted\)$/);
      expect(user.husk(['images', '-q']).stdout).toBe('');
      const layers = join(user.home, '.local/share/husk/layers');
      if (existsSync(layers)) expect(readdirSync(layers)).toEqual([]);
      const tmp = join(user.home, '.local/share/husk/tmp');
      if (existsSync(tmp)) expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tar, { force: true });
    }
  });
});

describe('a user and root do not see each other\'s containers', () => {
  beforeEach(() => user.setRanges({ start: 300000, count: 65536 }));

  it('detached, ps, logs, exec, rm as the user; root\'s ps does not list it; the user cannot see or remove root\'s', () => {
    const mine = user.husk(['run', '-d', '--rootfs', rootfs, 'sh', '-c', 'echo hello from the user; exec sleep 30']);
    expect(mine.status, mine.stderr).toBe(0);
    const id = mine.stdout.trim();
    const roots = husk(root, ['create', '--network', 'none', '--rootfs', rootfs, 'true']);
    expect(roots.status, roots.stderr).toBe(0);
    const rootId = roots.stdout.trim();
    try {
      const listed = (out: string) => out.trim().split('\n').filter(Boolean);
      const mineListed = listed(user.husk(['ps', '-q']).stdout);
      expect(mineListed.length).toBe(1);
      expect(id.startsWith(mineListed[0])).toBe(true);
      const rootsListed = listed(husk(root, ['ps', '-aq']).stdout);
      expect(rootsListed.length).toBe(1);
      expect(rootId.startsWith(rootsListed[0])).toBe(true);
      // Pointed at root's state, the user's husk sees nothing there and removes nothing.
      expect(user.husk(['--root', root, 'ps', '-aq']).stdout).toBe('');
      const rm = user.husk(['--root', root, 'rm', '-f', rootId]);
      expect(rm.status).not.toBe(0);
      expect(listed(husk(root, ['ps', '-aq']).stdout)).toEqual(rootsListed);

      let logs = '';
      for (let i = 0; i < 50 && !logs.includes('hello'); i++) logs = user.husk(['logs', id]).stdout;
      expect(logs).toBe('hello from the user\n');
      const exec = user.husk(['exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
      expect(exec.status, exec.stderr).toBe(0);
      expect(lines(exec.stdout)).toEqual(['0', `0 ${user.uid} 1`, '1 300000 65536']);
      // enter as the user: its namespaces are the container's user namespace's, entered first.
      for (const which of [[], ['--net'], ['--pid', '--mnt']]) {
        const entered = user.husk(['enter', ...which, id, 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
        expect(entered.status, `enter ${which.join(' ')}: ${entered.stderr}`).toBe(0);
        expect(lines(entered.stdout)).toEqual(['0', `0 ${user.uid} 1`, '1 300000 65536']);
      }
    } finally {
      const rmMine = user.husk(['rm', '-f', id]);
      expect(rmMine.status, rmMine.stderr).toBe(0);
      expect(husk(root, ['rm', '-f', rootId]).status).toBe(0);
    }
    expect(user.husk(['ps', '-aq']).stdout).toBe('');
    expectUserStateEmpty();
  });
});

/** A port free on 127.0.0.1 right now (the kernel's pick), for -p. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The user's pasta processes. */
function pastaOf(uid: number): number[] {
  return pidsOf(uid).filter((pid) => {
    try {
      // Its comm may be its AVX2 build's (passt.avx2): its argv[0] says pasta.
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0].endsWith('pasta');
    } catch {
      return false;
    }
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ns create as a user', () => {
  it('refused in one line for every type (a pin is a bind mount in the host\'s mount namespace), exit 125, nothing made', () => {
    user.setRanges({ start: 300000, count: 65536 });
    for (const type of ['--user', '--net', '--pid']) {
      const r = user.husk(['ns', 'create', type, 'x']);
      expect(r.status, type).toBe(125);
      expect(r.stderr, type).toBe("husk: ns create: a user cannot pin namespaces yet: a pin is a bind mount in the host's mount namespace, which needs root\n");
      expect(r.stdout, type).toBe('');
    }
    expect(user.husk(['ns', 'ls']).stdout).toBe('NAME   TYPE   NS   NPROCS   PINNED   CONTAINERS\n');
    expectUserStateEmpty();
  });

  it('pod create, network create and run --network NAME: one line each naming why (root only), exit 125, nothing made', () => {
    user.setRanges({ start: 300000, count: 65536 });
    const pod = user.husk(['pod', 'create', 'p']);
    expect(pod.status, pod.stderr).toBe(125);
    expect(pod.stderr).toBe("husk: pod create: a user cannot make pods yet: a pod's namespaces are pinned by bind mounts in the host's mount namespace, which needs root\n");
    for (const args of [['network', 'create', 'n'], ['run', '--rm', '--network', 'husk', '--rootfs', rootfs, 'true']]) {
      const r = user.husk(args);
      expect(r.status, args.join(' ')).toBe(125);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(/^husk: network (n|husk): a user cannot make bridged networks: a bridge, its addresses and its nftables rules need root$/);
    }
    expect(user.husk(['pod', 'ls']).stdout.trim().split('\n')).toHaveLength(1);
    expect(user.husk(['network', 'ls']).stdout.trim().split('\n')).toHaveLength(1);
    expectUserStateEmpty();
  });
});

describe('a user\'s container on the network through pasta', () => {
  beforeEach(() => user.setRanges({ start: 300000, count: 65536 }));

  it('-p 127.0.0.1:PORT:8080 without --network: the container\'s server answers on 127.0.0.1:PORT, husk port lists it; pasta goes with the container', async () => {
    const port = await freePort();
    const serve = 'mkdir -p /tmp/www && echo hello-through-pasta > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www';
    const run = user.husk(['run', '-d', '-p', `127.0.0.1:${port}:8080`, '--rootfs', rootfs, 'sh', '-c', serve], { tun: true });
    expect(run.status, run.stderr).toBe(0);
    const id = run.stdout.trim();
    try {
      const body = await until('the published port to answer', async () => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
          return await res.text();
        } catch {
          return undefined;
        }
      });
      expect(body).toBe('hello-through-pasta\n');
      expect(pastaOf(user.uid).length).toBe(1);
      // husk port lists pasta's port in the lines it prints for root's bridge.
      const ports = user.husk(['port', id]);
      expect(ports.status, ports.stderr).toBe(0);
      expect(ports.stdout).toBe(`8080/tcp -> 127.0.0.1:${port}\n`);
    } finally {
      const rm = user.husk(['rm', '-f', id]);
      expect(rm.status, rm.stderr).toBe(0);
    }
    // pasta leaves when the container's network namespace is gone.
    await until('pasta to leave', () => (pastaOf(user.uid).length === 0 ? true : undefined));
    expectUserStateEmpty();
  });

  it('a SIGKILLed monitor takes pasta with it (pasta runs in the foreground as its child, with PR_SET_PDEATHSIG); the next rm finds the container dead', async () => {
    const port = await freePort();
    const run = user.husk(['run', '-d', '-p', `127.0.0.1:${port}:8080`, '--rootfs', rootfs, 'sleep', '60'], { tun: true });
    expect(run.status, run.stderr).toBe(0);
    const id = run.stdout.trim();
    try {
      const [info] = JSON.parse(user.husk(['inspect', id]).stdout) as { Husk: { LauncherPid: number } }[];
      const monitor = info.Husk.LauncherPid;
      expect(monitor).toBeGreaterThan(0);
      const pasta = await until('pasta to run', () => (pastaOf(user.uid).length === 1 ? pastaOf(user.uid)[0] : undefined));
      // pasta is the monitor's own child now, not a daemon of init's.
      expect(Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pasta}/status`, 'utf8'))?.[1])).toBe(monitor);
      process.kill(monitor, 'SIGKILL');
      await until('pasta to leave with its monitor', () => (pastaOf(user.uid).length === 0 ? true : undefined), 10_000);
    } finally {
      const rm = user.husk(['rm', '-f', id]);
      expect(rm.status, rm.stderr).toBe(0);
    }
    expect(pastaOf(user.uid)).toEqual([]);
    expectUserStateEmpty();
  });

  it('pasta not installed: one line naming the package, exit 125, nothing left', () => {
    const r = user.husk(['run', '-p', '127.0.0.1:9:80', '--rootfs', rootfs, 'true'], { env: { HUSK_PASTA: '' }, tun: true });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: network: a container of yours gets its network from pasta, which is not installed.*: install the passt package \(apt-get install passt\)\n$/);
    expect(user.husk(['ps', '-aq']).stdout).toBe('');
    expectUserStateEmpty();
  });

  it('/dev/net/tun the user cannot open (this host\'s 0600): one line naming it and the fix', () => {
    const open = user.run(['sh', '-c', 'test -r /dev/net/tun -a -w /dev/net/tun']).status === 0;
    const r = user.husk(['run', '--network', 'pasta', '--rootfs', rootfs, 'true']);
    if (open) {
      expect(r.status, r.stderr).toBe(0);
      return;
    }
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('husk: network: pasta needs /dev/net/tun, which you cannot open (EACCES): as root, chmod 0666 /dev/net/tun (most distributions make it so), or run without -p and --network pasta\n');
  });
});
