// The golden plans: hand-written here, encoded to test/golden/NAME.bin, shown as NAME.txt.
// Both the TS tests and the Zig tests read the .bin files. Regenerate with
// `UPDATE_GOLDEN=1 npx vitest run test/unit/protocol-golden.test.ts` after a protocol change.
import type { Plan } from '../oracle/plan-codec.js';

const NS = { mnt: 0x20000n, uts: 0x4000000n, ipc: 0x8000000n, pid: 0x20000000n, net: 0x40000000n, cgroup: 0x2000000n, user: 0x10000000n, time: 0x80n };
const MS = { rdonly: 1n, nosuid: 2n, nodev: 4n, noexec: 8n, rec: 16384n, private: 1n << 18n };

export const GOLDEN: Record<string, Plan> = {
  // The smallest plan the launcher accepts.
  minimal: {
    version: 1n,
    flags: 0n,
    ops: [
      { name: 'CLONE', args: { flags: NS.mnt } },
      { name: 'EXEC', args: { path: '/bin/true', argv: ['/bin/true'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
    ],
  },
  // Every op once, in an order the launcher accepts.
  every_op: {
    version: 1n,
    flags: 3n,
    ops: [
      { name: 'UNSHARE', args: { flags: NS.time } },
      { name: 'WRITE_FILE', args: { path: '/proc/self/timens_offsets', content: 'monotonic 86400 0\nboottime 86400 0\n' } },
      { name: 'CLONE', args: { flags: NS.mnt | NS.uts | NS.ipc | NS.pid | NS.net | NS.cgroup | NS.user } },
      { name: 'SETGROUPS', args: { text: 'deny' } },
      { name: 'UID_MAP', args: { text: '0 100000 65536\n' } },
      { name: 'GID_MAP', args: { text: '0 100000 65536\n' } },
      { name: 'MOUNT', args: { source: '', target: '/', fstype: '', flags: MS.rec | MS.private, data: '' } },
      { name: 'MOUNT', args: { source: 'tmpfs', target: '/run/husk/stage', fstype: 'tmpfs', flags: MS.nosuid | MS.nodev, data: 'mode=0755' } },
      { name: 'MKDIR', args: { path: '/run/husk/stage/root', mode: 0o755n } },
      { name: 'SET_ROOT', args: { path: '/run/husk/stage/root' } },
      { name: 'MKDIR', args: { path: 'dev', mode: 0o755n } },
      { name: 'TOUCH', args: { path: 'dev/null', mode: 0o644n } },
      { name: 'BIND', args: { source: '/dev/null', target: 'dev/null', flags: 4n } },
      { name: 'SYMLINK', args: { target: '/proc/self/fd', linkpath: 'dev/fd' } },
      { name: 'MASK', args: { path: 'proc/kcore' } },
      { name: 'READONLY', args: { path: 'proc/sys' } },
      { name: 'WRITE_FILE', args: { path: 'etc/hostname', content: 'box\n' } },
      { name: 'PIVOT_ROOT', args: { newroot: '/run/husk/stage/root' } },
      { name: 'UNSHARE', args: { flags: NS.ipc } },
      { name: 'SETHOSTNAME', args: { name: 'box' } },
      { name: 'LOOPBACK_UP', args: {} },
      { name: 'RLIMIT', args: { resource: 7n, soft: 1024n, hard: 1024n } },
      { name: 'CAPS', args: { bounding: 0xa80425fbn, effective: 0xa80425fbn, permitted: 0xa80425fbn, inheritable: 0n } },
      { name: 'USER', args: { uid: 1000n, gid: 1000n, groups: [1000n, 27n] } },
      { name: 'CHDIR', args: { path: '/tmp' } },
      { name: 'NO_NEW_PRIVS', args: {} },
      { name: 'CLOSE_FDS', args: {} },
      { name: 'EXEC', args: { path: 'sh', argv: ['sh', '-c', 'echo "hi there"'], env: ['PATH=/usr/bin:/bin', 'HOME=/root'], search: ['/usr/bin', '/bin'], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
    ],
  },
  // The cgroup, status-file and idmap ops (protocol v1 additions).
  cgroup_idmap: {
    version: 1n,
    flags: 2n,
    ops: [
      { name: 'STATUS_FILE', args: { path: '/run/husk/containers/abc/status' } },
      { name: 'CGROUP_MKDIR', args: { path: '/sys/fs/cgroup/memory/husk', flags: 1n } },
      { name: 'CGROUP_MKDIR', args: { path: '/sys/fs/cgroup/memory/husk/abc', flags: 0n } },
      { name: 'CGROUP_WRITE', args: { path: '/sys/fs/cgroup/memory/husk/abc/memory.limit_in_bytes', value: '33554432' } },
      { name: 'CGROUP_REPORT', args: { path: '/sys/fs/cgroup/memory/husk/abc/memory.oom_control' } },
      { name: 'CGROUP_MKDIR', args: { path: '/sys/fs/cgroup/unified/husk', flags: 1n } },
      { name: 'CGROUP_MKDIR', args: { path: '/sys/fs/cgroup/unified/husk/abc', flags: 0n } },
      // Deny every device: r0 = 0, exit (a device program, docs/protocol.md "CGROUP_DEVICES").
      { name: 'CGROUP_DEVICES', args: { path: '/sys/fs/cgroup/unified/husk/abc', program: [0xb4n, 0x95n] } },
      { name: 'CGROUP_INTO', args: { path: '/sys/fs/cgroup/unified/husk/abc' } },
      { name: 'CLONE', args: { flags: NS.mnt | NS.user | NS.pid } },
      { name: 'UID_MAP', args: { text: '0 524288 65536\n' } },
      { name: 'GID_MAP', args: { text: '0 524288 65536\n' } },
      { name: 'CGROUP_ENTER', args: { path: '/sys/fs/cgroup/pids/husk/abc/cgroup.procs' } },
      { name: 'IDMAP_TREE', args: { source: '/usr', slot: 0n } },
      { name: 'CGROUP_JOIN', args: { path: '/sys/fs/cgroup/memory/husk/abc/tasks' } },
      { name: 'UNSHARE', args: { flags: NS.cgroup } },
      { name: 'USER', args: { uid: 0n, gid: 0n, groups: [] } },
      { name: 'MOUNT', args: { source: '', target: '/', fstype: '', flags: MS.rec | MS.private, data: '' } },
      { name: 'MKDIR', args: { path: '/run/husk/stage/lower/0', mode: 0o755n } },
      { name: 'ATTACH_TREE', args: { slot: 0n, target: '/run/husk/stage/lower/0' } },
      { name: 'EXEC', args: { path: '/bin/true', argv: ['true'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
    ],
  },
  // A control plan (docs/protocol.md "Control plans"): every control op, no CLONE, no EXEC.
  control: {
    version: 1n,
    flags: 0n,
    ops: [
      { name: 'CGROUP_FREEZE', args: { path: '/sys/fs/cgroup/freezer/husk/abc', frozen: 1n } },
      { name: 'CGROUP_FREEZE', args: { path: '/sys/fs/cgroup/freezer/husk/abc', frozen: 0n } },
      { name: 'CGROUP_KILL', args: { path: '/sys/fs/cgroup/unified/husk/abc' } },
      { name: 'SIGNAL_PROCESS', args: { pid: 4242n, start_time: 123456n, signo: 9n } },
      { name: 'CGROUP_REMOVE', args: { path: '/sys/fs/cgroup/freezer/husk/abc' } },
      { name: 'CGROUP_REMOVE', args: { path: '/sys/fs/cgroup/unified/husk/abc' } },
      // A killed monitor's published port, tcp . 8080 : 10.88.0.5 . 80 (docs/protocol.md "NFT_ELEMENTS").
      { name: 'NFT_DELETE', args: { family: 1n, table: 'husk', set: 'ports', flags: 0n, key_words: 2n, data_words: 2n, words: [0x06000000n, 0x1f900000n, 0x0a580005n, 0x00500000n] } },
    ],
  },
  // A layered image (docs/protocol.md "OVERLAY"): three layers, top first, in a user namespace.
  layers: {
    version: 1n,
    flags: 0n,
    ops: [
      { name: 'CLONE', args: { flags: NS.mnt | NS.user } },
      { name: 'UID_MAP', args: { text: '0 100000 65536\n' } },
      { name: 'GID_MAP', args: { text: '0 100000 65536\n' } },
      { name: 'IDMAP_TREE', args: { source: '/var/lib/husk/layers', slot: 0n } },
      { name: 'USER', args: { uid: 0n, gid: 0n, groups: [] } },
      { name: 'MOUNT', args: { source: 'tmpfs', target: '/run/husk/stage', fstype: 'tmpfs', flags: MS.nosuid | MS.nodev, data: 'mode=0755' } },
      { name: 'MKDIR', args: { path: '/run/husk/stage/lower/0', mode: 0o755n } },
      { name: 'ATTACH_TREE', args: { slot: 0n, target: '/run/husk/stage/lower/0' } },
      { name: 'MKDIR', args: { path: '/run/husk/stage/root', mode: 0o755n } },
      {
        name: 'OVERLAY',
        args: {
          lowers: ['/run/husk/stage/lower/0/cc/diff', '/run/husk/stage/lower/0/bb/diff', '/run/husk/stage/lower/0/aa/diff'],
          upper: '/var/lib/husk/containers/abc/upper',
          work: '/var/lib/husk/containers/abc/work',
          target: '/run/husk/stage/root',
          links: '/run/husk/stage/l',
          flags: 1n,
        },
      },
      { name: 'PIVOT_ROOT', args: { newroot: '/run/husk/stage/root' } },
      { name: 'EXEC', args: { path: '/bin/sh', argv: ['sh'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
    ],
  },
  // An fs plan (docs/protocol.md "Fs plans"): FS_ROOT first, every fs op, no CLONE, no EXEC.
  fs: {
    version: 1n,
    flags: 0n,
    ops: [
      { name: 'FS_ROOT', args: { path: '/var/lib/husk/layers/ab/diff' } },
      { name: 'MKNOD', args: { path: 'etc/passwd', mode: 0o020000n, rdev: 0n } },
      { name: 'SETXATTR', args: { path: 'usr/share', name: 'trusted.overlay.opaque', value: '79' } },
      { name: 'SETXATTR', args: { path: 'bin/ping', name: 'security.capability', value: '0100000200200000000000000000000000000000' } },
      { name: 'READ_XATTRS', args: { path: '.' } },
      { name: 'FS_ROOT', args: { path: '/var/lib/husk/layers/cd/diff' } },
      { name: 'MKNOD', args: { path: 'dev/sda', mode: 0o060660n, rdev: 0x800n } },
    ],
  },
};
