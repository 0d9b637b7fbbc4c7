// husk run IMAGE: an image from the store, its layers stacked by overlayfs, its config used
// (and overridden by flags as docker does). The container sees exactly the merged view the
// image spec defines: whiteouts delete, opaque directories replace.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { husk, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildLayout, busyboxImage, busyboxRootfs, sh } from './images-fixture.js';

const { root } = useLeakCheck();
const work = suiteDir('run-image-work');
const storage = suiteDir('run-image-storage');

const hk = (args: string[], opts: { input?: string } = {}) => husk(root, ['--storage', storage, ...args], opts);
const IMAGE = 'husk-test/busybox:3layers';

beforeAll(() => {
  const img = busyboxImage(join(work, 'a'), IMAGE);
  expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
  // An image with a config: entrypoint, cmd, env, workdir, user by name, stop signal, ports.
  const base = join(work, 'cfg-base');
  busyboxRootfs(base);
  sh(`printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:4242:4343::/home/app:/bin/sh\\n' > "$1/etc/passwd"; printf 'root:x:0:\\nstaff:x:50:\\n' > "$1/etc/group"; mkdir -p "$1/srv/app"`, base);
  const cfg = buildLayout(join(work, 'cfg'), [{ dir: base, compression: 'gzip' }], {
    tag: 'husk-test/config:1',
    config: {
      Entrypoint: ['/bin/sh', '-c', 'echo "ep:$0:$*:$(id -u):$(id -g):$(pwd):$GREETING:$FROM_FLAG"'],
      Cmd: ['cmd-default'],
      Env: ['PATH=/bin', 'GREETING=from-image', 'FROM_FLAG=unset'],
      WorkingDir: '/srv/app',
      User: 'app',
      StopSignal: 'SIGQUIT',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
    },
  });
  expect(hk(['load', '-q', '-i', cfg.dir]).status).toBe(0);
}, 120_000);

describe('the merged view of a layered image', () => {
  it('shows exactly the layers\' merged view: a whiteout deletes, an opaque directory replaces, upper files win', () => {
    const r = hk(['run', '--network', 'none', IMAGE, 'sh', '-c', 'ls /data; echo --; ls -R /opq; echo --; cat /etc/motd /added3 /data/keep']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('keep\n--\n/opq:\nc\n--\nlayer2\nthree\nkeep\n');
  });

  it('shows the same merged view in a user namespace (--userns auto: a userxattr overlay reads the layers\' user.overlay.opaque, which root\'s unpack writes beside trusted.overlay.opaque)', () => {
    const r = hk(['run', '--network', 'none', '--userns', 'auto', IMAGE, 'sh', '-c', 'ls /data; echo --; ls -R /opq; echo --; cat /etc/motd /added3 /data/keep']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('keep\n--\n/opq:\nc\n--\nlayer2\nthree\nkeep\n');
  });

  it('without a command runs the image\'s Cmd', () => {
    const r = hk(['run', '--network', 'none', IMAGE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('layer2\n');
  });

  it('a container\'s writes do not reach the image\'s layers', () => {
    expect(hk(['run', '--network', 'none', IMAGE, 'sh', '-c', 'echo changed > /etc/motd; rm /added3']).status).toBe(0);
    expect(hk(['run', '--network', 'none', IMAGE, 'cat', '/etc/motd', '/added3']).stdout).toBe('layer2\nthree\n');
  });

  it('an image the store does not have: 125, naming it, with what to do', () => {
    const r = hk(['run', '--network', 'none', 'husk-test/nothing:here', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: unable to find image "husk-test\/nothing:here": no such image in /);
    expect(r.stderr).toMatch(/husk pull husk-test\/nothing:here.*husk load -i FILE/);
    // Refused before any state is made: a fresh --root stays unmade.
    const fresh = join(root, 'never-made');
    expect(husk(fresh, ['--storage', storage, 'run', '--network', 'none', 'husk-test/nothing:here', 'true']).status).toBe(125);
    expect(existsSync(fresh)).toBe(false);
  });

  it('names an image by its id prefix too', () => {
    const id = hk(['images', '-q']).stdout.trim().split('\n')[0];
    const r = hk(['run', '--network', 'none', id, 'true']);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('the image config and the flags', () => {
  const CFG = 'husk-test/config:1';

  it('Entrypoint + Cmd, Env, WorkingDir and User (a name, from the image\'s passwd) are used', () => {
    const r = hk(['run', '--network', 'none', CFG]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ep:cmd-default::4242:4343:/srv/app:from-image:unset\n');
  });

  it('args replace Cmd; -e overrides the image\'s env; -w and -u win', () => {
    const r = hk(['run', '--network', 'none', '-e', 'FROM_FLAG=flag', '-e', 'GREETING=flag-too', '-w', '/tmp', '-u', '0:50', CFG, 'first', 'second']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ep:first:second:0:50:/tmp:flag-too:flag\n');
  });

  it('-u NAME:GROUP is looked up in the image, not on the host', () => {
    const r = hk(['run', '--network', 'none', '-u', 'app:staff', '--entrypoint', 'id', CFG]);
    expect(r.stdout).toBe('uid=4242(app) gid=50(staff)\n');
    const missing = hk(['run', '--network', 'none', '-u', 'nosuchuser', CFG]);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/unable to find user nosuchuser/);
  });

  it('--entrypoint replaces the entrypoint and drops Cmd; --entrypoint \'\' runs the args alone', () => {
    expect(hk(['run', '--network', 'none', '--entrypoint', '/bin/echo', CFG]).stdout).toBe('\n');
    expect(hk(['run', '--network', 'none', '--entrypoint', '/bin/echo', CFG, 'x', 'y']).stdout).toBe('x y\n');
    expect(hk(['run', '--network', 'none', '--entrypoint', '', CFG, '/bin/echo', 'plain']).stdout).toBe('plain\n');
    const none = hk(['run', '--network', 'none', '--entrypoint', '', CFG]);
    expect(none.status).toBe(125);
    expect(none.stderr).toMatch(/^husk: command: no command specified/);
  });

  it('run -d records the image, its StopSignal, ports and the command run; inspect shows them', () => {
    const id = hk(['run', '--network', 'none', '-d', CFG]).stdout.trim();
    try {
      const rec = JSON.parse(sh('cat "$1"', join(root, 'containers', `${id}.json`)));
      expect(rec.image).toBe(CFG);
      expect(rec.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(rec.stopSignal).toBe('SIGQUIT');
      expect([...rec.exposedPorts].sort()).toEqual(['53/udp', '8080/tcp']);
      expect(rec.argv[0]).toBe('/bin/sh');
      expect(rec.argv.at(-1)).toBe('cmd-default');
      const inspect = JSON.parse(hk(['inspect', id]).stdout)[0];
      expect(inspect.Config.StopSignal).toBe('SIGQUIT');
      expect(Object.keys(inspect.Config.ExposedPorts).sort()).toEqual(['53/udp', '8080/tcp']);
      expect(inspect.GraphDriver.Data.UpperDir).toBe(join(storage, 'containers', id, 'upper'));
    } finally {
      hk(['rm', '-f', id]);
    }
  });

  it('plan IMAGE shows the overlay of the image\'s layers', () => {
    const r = hk(['plan', '--network', 'none', IMAGE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/overlay of 3 layers \(top first: /);
    expect(r.stdout).toMatch(/exec \/bin\/sh -c "cat \/etc\/motd"\n$/);
  });
});
