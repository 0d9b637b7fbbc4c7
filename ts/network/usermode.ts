// User-mode networking for a user who may make no bridge: `--network pasta` (and, for a
// non-root caller, `-p` without `--network`) gives the container the network of `pasta`
// (Debian's passt), as podman's rootless default does, with `-p HOSTPORT:PORT` forwarded from
// the host's sockets. The facts gathered here: where pasta is, whether /dev/net/tun can be
// opened; the arguments are the core's (assembly/net/usermode.ts).
import { accessSync, constants } from 'node:fs';
import type { RunFlags } from '../cli/args.js';
import type { PlanRequest } from '../core/build-plan.js';
import { HuskError } from '../errors.js';

const DIRS = ['/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin', '/sbin'];
const TUN = '/dev/net/tun';

function find(name: string): string {
  for (const dir of DIRS) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // Not here.
    }
  }
  return '';
}

/** Whether the run asks for user-mode networking: typed, or a non-root caller's `-p` with no network. */
export function wantsUsermode(f: Pick<RunFlags, 'usermodeNet' | 'network' | 'publish' | 'net'>, rootless: boolean): boolean {
  if (f.usermodeNet !== undefined) return true;
  return rootless && f.network === undefined && f.net === 'private' && f.publish.length > 0;
}

/** The request's pasta facts, or undefined when the run does not ask for it. One line for each thing missing. */
export function usermodeFacts(f: RunFlags, rootless: boolean): PlanRequest['usermode'] {
  if (!wantsUsermode(f, rootless)) return undefined;
  if (f.usermodeNet === 'slirp4netns') {
    throw new HuskError('invalid-value', 'network slirp4netns: husk does not drive slirp4netns yet: use --network pasta (install the passt package)');
  }
  const program = process.env.HUSK_PASTA ?? find('pasta');
  if (program === '') {
    const slirp = find('slirp4netns') === '' ? '' : ' (slirp4netns is installed, but husk does not drive it yet)';
    throw new HuskError('invalid-value', `network: a container of yours gets its network from pasta, which is not installed${slirp}: install the passt package (apt-get install passt)`);
  }
  try {
    accessSync(TUN, constants.R_OK | constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HuskError('invalid-value', `network: pasta needs ${TUN}, which you cannot open (${code}): as root, chmod 0666 ${TUN} (most distributions make it so), or run without -p and --network pasta`);
  }
  return { program, ports: f.publish.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, port: p.port, proto: p.proto })) };
}
