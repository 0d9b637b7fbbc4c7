// A plan in words, one op a line: what `husk plan` prints. The plan comes read by the core
// (ts/core/describe.ts); this file only puts each op and its fields into words.
import type { DescribedOp, PlanDescription } from '../core/describe.js';
import { escapeControls } from '../errors.js';
import { CLONE_NEW, HELLO_FLAG, MOUNT_FLAGS } from './ops.js';

function bits(value: bigint, table: readonly (readonly [bigint, string])[]): string {
  const names = table.filter(([bit]) => (value & bit) !== 0n).map(([, n]) => n);
  let rest = value;
  for (const [bit] of table) rest &= ~bit;
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names.join(',');
}

const q = (s: string): string => (s === '' || /[\s"\\]/.test(s) ? JSON.stringify(s) : s);
const mode = (m: bigint): string => `0${m.toString(8)}`;
const mask = (m: bigint): string => `0x${m.toString(16)}`;
/** BIND's flags bits 3-9 (docs/protocol.md BIND). */
const BIND_ATTRIBUTES: readonly (readonly [bigint, string])[] = [
  [8n, 'nosuid'], [16n, 'nodev'], [32n, 'noexec'], [64n, 'noatime'], [128n, 'strictatime'], [256n, 'relatime'], [512n, 'nodiratime'],
];
/** MAJOR:MINOR of a Linux dev_t as MKNOD carries it (32 bits: glibc's makedev). */
const devNumbers = (d: bigint): string => `${((d >> 8n) & 0xfffn)}:${(d & 0xffn) | ((d >> 12n) & 0xfff00n)}`;

/** One op in words, on one line: paths, values and argv are the user's, so controls are escaped. */
export function describeOp(op: Pick<DescribedOp, 'name' | 'args'>): string {
  return escapeControls(opWords(op));
}

function opWords(op: Pick<DescribedOp, 'name' | 'args'>): string {
  const a = op.args as Record<string, any>;
  switch (op.name) {
    case 'UNSHARE':
      return `unshare new ${bits(a.flags, CLONE_NEW)} namespaces`;
    case 'CLONE':
      return `clone the container process into new ${bits(a.flags, CLONE_NEW)} namespaces`;
    case 'WRITE_FILE':
      return `write ${q(a.content)} to ${a.path}`;
    case 'UID_MAP':
      return `write uid map ${q(a.text)}`;
    case 'GID_MAP':
      return `write gid map ${q(a.text)}`;
    case 'SETGROUPS':
      return `set setgroups to ${a.text}`;
    case 'MOUNT': {
      const what = a.fstype || a.source || 'none';
      const f = a.flags ? ` (${bits(a.flags, MOUNT_FLAGS)})` : '';
      const data = a.data ? ` [${a.data}]` : '';
      if (!a.fstype) return `mount ${a.source || 'none'} on ${a.target}${f}${data}`;
      return `mount ${what}${a.source && a.source !== a.fstype ? ` from ${a.source}` : ''} on ${a.target}${f}${data}`;
    }
    case 'MKDIR':
      return `mkdir -p ${a.path} (mode ${mode(a.mode)})`;
    case 'TOUCH':
      return `create file ${a.path} (mode ${mode(a.mode)})`;
    case 'SYMLINK':
      return `symlink ${a.linkpath} -> ${a.target}`;
    case 'BIND': {
      const f = [a.flags & 1n ? 'recursive' : '', a.flags & 2n ? 'read-only' : '', a.flags & 4n ? 'create target' : '', ...BIND_ATTRIBUTES.map(([bit, name]) => (a.flags & bit ? name : ''))]
        .filter(Boolean)
        .join(', ');
      return `bind ${a.source} on ${a.target}${f ? ` (${f})` : ''}`;
    }
    case 'PIVOT_ROOT':
      return `pivot_root into ${a.newroot} and detach the old root`;
    case 'MASK':
      return `mask ${a.path}`;
    case 'READONLY':
      return `make ${a.path} read-only`;
    case 'OVERLAY': {
      const f = [a.flags & 1n ? 'userxattr' : '', a.flags & 2n ? 'mount(2) with short names' : ''].filter(Boolean).join(', ');
      const lowers = a.lowers as string[];
      const shown = lowers.length <= 4 ? lowers.join(':') : `${lowers.slice(0, 2).join(':')}:…:${lowers[lowers.length - 1]}`;
      return `overlay of ${lowers.length} layer${lowers.length === 1 ? '' : 's'} (top first: ${shown}) upper ${a.upper} work ${a.work} on ${a.target}${f ? ` (${f})` : ''}`;
    }
    case 'COPY_TREE':
      return `copy ${a.source} into ${a.target}${a.flags & 1n ? ` (a layer: character devices 0/0 remove, ${a.opaque_xattr}=y replaces a directory)` : ''}`;
    case 'OVERLAY_PROBE':
      return 'try an overlayfs with userxattr in a user namespace of its own';
    case 'SET_ROOT':
      return `resolve relative paths inside ${a.path}`;
    case 'SETHOSTNAME':
      return `set hostname ${q(a.name)}`;
    case 'LOOPBACK_UP':
      return 'bring lo up';
    case 'CHDIR':
      return `chdir ${a.path}`;
    case 'RLIMIT':
      return `set rlimit ${a.resource} to ${a.soft}:${a.hard}`;
    case 'CAPS':
      return `keep capabilities bounding=${mask(a.bounding)} effective=${mask(a.effective)} permitted=${mask(a.permitted)} inheritable=${mask(a.inheritable)}`;
    case 'USER':
      return `become uid ${a.uid} gid ${a.gid}${a.groups.length ? ` groups ${a.groups.join(',')}` : ''}`;
    case 'NO_NEW_PRIVS':
      return 'set no_new_privs';
    case 'CLOSE_FDS':
      return 'close every fd above 2 at exec';
    case 'EXEC':
      return `exec ${(a.argv as string[]).map(q).join(' ')}${a.path.includes('/') ? '' : ` (searching ${(a.search as string[]).join(':')})`}`;
    case 'TTY':
      return `give the container a pty of ${a.rows}x${a.cols} (the monitor holds its master)`;
    case 'ATTACH':
      return `listen for husk attach on ${a.path}${a.flags & 1n ? ', stdin kept open' : ''}${a.flags & 2n ? ', start once attached' : ''}`;
    case 'LOG':
      return `log the container's stdout and stderr to ${a.path}`;
    case 'STATUS_FILE':
      return `write the final status to ${a.path}`;
    case 'CGROUP_MKDIR':
      return `make cgroup ${a.path}${a.flags & 1n ? ' (shared, kept)' : ' (removed at the end)'}`;
    case 'CGROUP_WRITE':
      return `write ${q(a.value)} to ${a.path}`;
    case 'CGROUP_ENTER':
      return `move the container process into ${a.path}`;
    case 'CGROUP_JOIN':
      return `join cgroup ${a.path} (the container process moves itself)`;
    case 'CGROUP_INTO':
      return `create the container process inside cgroup ${a.path}`;
    case 'CGROUP_DEVICES':
      return `attach a device filter of ${(a.program as bigint[]).length} BPF instructions to cgroup ${a.path}`;
    case 'CGROUP_REPORT':
      return `report ${a.path} at the end`;
    case 'IDMAP_TREE':
      return `idmap a clone of ${a.source} to the container's user namespace (slot ${a.slot})`;
    case 'IDMAP_HELPER':
      return `run ${a.path} PID ${(a.args as string[]).join(' ')} (the setuid helper writes the map)`;
    case 'NET_HELPER':
      return `run ${a.path} ${(a.args as string[]).join(' ')} PID (the container's network, its published ports)`;
    case 'FS_USERNS':
      return `go on in a user namespace mapped by ${a.newuidmap} ${(a.uid_args as string[]).join(' ')} and ${a.newgidmap} ${(a.gid_args as string[]).join(' ')}`;
    case 'REMOVE_TREE':
      return `remove ${a.path} and all it holds`;
    case 'SECCOMP_PROGRAM':
      return `keep ${(a.program as bigint[]).length} BPF instructions for the next SECCOMP`;
    case 'SECCOMP': {
      const flags = [a.flags & 1n ? 'tsync' : '', a.flags & 2n ? 'log' : '', a.flags & 4n ? 'spec_allow' : '', a.flags & 8n ? 'new_listener' : ''].filter(Boolean).join(',');
      return `load a seccomp filter of ${(a.program as bigint[]).length} BPF instructions${flags ? ` (flags ${flags})` : ''} (with any parts above)`;
    }
    case 'IDMAP_MOUNT':
      return `idmap ${a.source} ${a.uid_map ? `through uid map ${JSON.stringify(a.uid_map)}` : "through the container's maps"} (flags 0x${(a.flags as bigint).toString(16)}) as slot ${a.slot}`;
    case 'SECCOMP_LISTENER':
      return `send the seccomp listener to the agent at ${a.path} with the container process state`;
    case 'PTY':
      return `open a pty at ${a.path} (the container's devpts), make it stdio and the controlling terminal, send the master to the monitor`;
    case 'INIT':
      return "fork: the container process stays as husk's init (pid 1: reaps, forwards signals), its child runs the command";
    case 'WAIT_START':
      return 'wait for START (the container is created; exec when started)';
    case 'ATTACH_TREE':
      return `attach idmapped tree ${a.slot} on ${a.target}`;
    case 'CGROUP_FREEZE':
      return `${a.frozen ? 'freeze' : 'thaw'} cgroup ${a.path} (wait until the kernel says so)`;
    case 'CGROUP_KILL':
      return `kill every process in cgroup ${a.path}`;
    case 'CGROUP_REMOVE':
      return `remove cgroup ${a.path} (thaw, kill, children first if busy)`;
    case 'SIGNAL_PROCESS':
      return `send signal ${a.signo} to pid ${a.pid} if it started at ${a.start_time}`;
    case 'TARGET':
      return `open pid ${a.pid} (a pidfd) if it started at ${a.start_time}`;
    case 'SETNS':
      return `enter the ${bits(a.flags, CLONE_NEW)} namespaces of that pid`;
    case 'SETNS_FILE':
      return `enter the ${bits(a.nstype, CLONE_NEW)} namespace ${a.path}`;
    case 'PIN_NEW':
      return `unshare new ${bits(a.flags, CLONE_NEW)} namespaces and pin each under ${a.dir}`;
    case 'PIN':
      return `pin the container process's ${bits(a.nstype, CLONE_NEW)} namespace on ${a.path}`;
    case 'UNPIN':
      return `unpin ${a.path} (detach its bind mount, remove the file)`;
    case 'NET_BRIDGE':
      return `bridge ${a.name} with ${a.address}, up (each made if missing)`;
    case 'NET_LINK_DEL':
      return `delete link ${a.name} (gone is fine)`;
    case 'NET_SYSCTL':
      return `write ${a.value} to /proc/sys/${a.key}`;
    case 'NET_VETH':
      return `veth ${a.host} on bridge ${a.bridge}, its peer ${a.peer} (${a.mac}) made in the container's network namespace`;
    case 'NET_LINK_UP':
      return `bring ${a.name} up`;
    case 'NET_ADDR':
      return `add address ${a.address} to ${a.name}${(a.flags as bigint) & 1n ? ' (no DAD)' : ''}`;
    case 'NET_ROUTE':
      return `default route via ${a.gateway} on ${a.name}`;
    case 'NET_CONNECT':
      return `veth ${a.host} on bridge ${a.bridge}, its peer ${a.peer} (${a.mac}) made in pid ${a.pid}'s network namespace with ${a.address}`;
    case 'NFT_ELEMENTS':
    case 'NFT_DELETE': {
      const verb = op.name === 'NFT_DELETE' ? 'delete' : (a.flags as bigint) & 1n ? 'create' : 'add';
      return `${verb} element${elementsOf(a).length === 1 ? '' : 's'} ${elementsOf(a).join(', ')} ${verb === 'delete' ? 'from' : 'in'} set ${a.set} of table ${a.table}`;
    }
    case 'FS_ROOT':
      return `resolve the next paths inside ${a.path}`;
    case 'MKNOD': {
      const type = (a.mode as bigint) & 0o170000n;
      const what = type === 0o010000n ? 'fifo' : `${type === 0o060000n ? 'block' : 'char'} device ${devNumbers(a.rdev)}`;
      return `mknod ${a.path} ${what} (mode ${mode((a.mode as bigint) & 0o7777n)})`;
    }
    case 'SETXATTR':
      return `set xattr ${a.name}=0x${a.value} on ${a.path}`;
    case 'READ_XATTRS':
      return `read the xattrs of ${a.path}`;
    default:
      return op.name.toLowerCase();
  }
}

const RUNNER_LABEL = { launcher: 'launcher ', monitor: 'monitor  ', container: 'container' } as const;

export function describePlan(plan: PlanDescription, choices: readonly string[] = []): string {
  const lines: string[] = [];
  const flags = [plan.flags & HELLO_FLAG.trace ? 'trace' : '', plan.flags & HELLO_FLAG.dieWithParent ? 'die with parent' : '', plan.flags & HELLO_FLAG.diesWithMonitor ? 'dies with monitor' : '']
    .filter(Boolean)
    .join(', ');
  lines.push(`plan v${plan.version}, ${plan.ops.length} ops${flags ? ` (${flags})` : ''}`);
  const width = String(plan.ops.length - 1).length;
  for (const c of choices) lines.push(escapeControls(c));
  for (const [i, op] of plan.ops.entries()) lines.push(`${String(i).padStart(width)}  ${RUNNER_LABEL[op.runner]}  ${describeOp(op)}`);
  return lines.join('\n') + '\n';
}

/** The plan as `husk plan --format json` prints it: numbers as JSON numbers while exact, else strings. */
export function planJson(plan: PlanDescription, choices: readonly string[] = []): string {
  const shown = { version: plan.version, flags: plan.flags, ...(choices.length ? { choices } : {}), ops: plan.ops.map((op) => ({ name: op.name, args: op.args })) };
  return JSON.stringify(shown, (_k, v) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), 2) + '\n';
}

/**
 * NFT_ELEMENTS' elements as nft writes them: 32-bit words, each part of a concatenation
 * in whole words (docs/protocol.md "NFT_ELEMENTS"); husk's port maps by name, others in hex.
 */
function elementsOf(a: Record<string, unknown>): string[] {
  const words = a.words as bigint[];
  const key = Number(a.key_words);
  const size = key + Number(a.data_words);
  const ip = (w: bigint) => [24n, 16n, 8n, 0n].map((s) => (w >> s) & 255n).join('.');
  const proto = (w: bigint) => ({ 6: 'tcp', 17: 'udp' } as Record<string, string>)[String(w >> 24n)] ?? String(w >> 24n);
  const out: string[] = [];
  for (let i = 0; size > 0 && i + size <= words.length; i += size) {
    const w = words.slice(i, i + size);
    if (a.set === 'ports' && size === 4) out.push(`${proto(w[0])} . ${w[1] >> 16n} : ${ip(w[2])} . ${w[3] >> 16n}`);
    else if (a.set === 'ports_ip' && size === 5) out.push(`${ip(w[0])} . ${proto(w[1])} . ${w[2] >> 16n} : ${ip(w[3])} . ${w[4] >> 16n}`);
    else out.push(`${w.slice(0, key).map((x) => x.toString(16).padStart(8, '0')).join(' ')}${size > key ? ` : ${w.slice(key).map((x) => x.toString(16).padStart(8, '0')).join(' ')}` : ''}`);
  }
  return out;
}
