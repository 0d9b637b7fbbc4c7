// husk ns: namespaces as objects — create (new namespaces, pinned under <root>/ns/NAME with no
// process left in them), ls (like lsns: type, inode, processes, containers, pinned), inspect,
// rm (unpins; refuses while a process is in one unless -f).
import type { NsCommand } from './args-execns.js';
import { HuskError, escapeControls, reportText } from '../errors.js';
import { STATUS_SOME_TARGETS_FAILED } from '../runtime/exit-status.js';
import type { PinnedNs } from '../runtime/ns-store.js';
import type { PinnedIdmap } from '../core/pin-plan.js';

async function liveRecords(root: string) {
  const { sweep } = await import('../runtime/records.js');
  const { cgroupHost } = await import('../cgroup/host.js');
  return (await sweep(root, cgroupHost)).filter((r) => r.finished === undefined);
}

/**
 * The maps of a user namespace `ns create --user` pins: --uidmap/--gidmap as typed, else
 * --userns auto's (a free host range of 65536 ids that no live container and no other pinned
 * user namespace holds). The core computes and checks them (idmapCompute).
 */
async function pinnedUserMaps(root: string, uidmap: string[] | undefined, gidmap: string[] | undefined): Promise<PinnedIdmap> {
  const { computeIdmap } = await import('../core/idmap.js');
  const { caller, readSubidFile, usedRanges } = await import('../runtime/userns.js');
  const { pinnedRanges } = await import('../runtime/ns-store.js');
  const who = caller();
  const used = [...usedRanges(await liveRecords(root)), ...pinnedRanges(root)];
  const maps = uidmap || gidmap
    ? { mode: 'host' as const, uidmap: uidmap ?? [], gidmap: gidmap ?? [], caller: who }
    : { mode: 'auto' as const, caller: who, subuid: readSubidFile('--subuid-file', '/etc/subuid'), subgid: readSubidFile('--subgid-file', '/etc/subgid') };
  const answer = computeIdmap(maps, used);
  const plain = (l: { inside: number; outside: number; count: number }) => ({ inside: l.inside, outside: l.outside, count: l.count });
  return { uid: answer.uid.map(plain), gid: answer.gid.map(plain) };
}

function row(name: string, ns: PinnedNs) {
  return {
    Name: name,
    Type: ns.type,
    Inode: ns.inode ?? null,
    Path: ns.path,
    Pinned: ns.pinned,
    Processes: ns.processes,
    Containers: ns.containers,
    Init: ns.init ?? null,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n') + '\n';
}

export async function nsCommand(root: string, cmd: NsCommand): Promise<number> {
  const store = await import('../runtime/ns-store.js');
  switch (cmd.action) {
    case 'create': {
      // Every pin is a bind mount in the host's mount namespace (docs/protocol.md "Pinned
      // namespaces"), which a user may not make; without this line a user met the launcher's
      // EPERM (or, for --user, the newuidmap note), after husk had made directories.
      const { caller } = await import('../runtime/userns.js');
      if (caller().rootless) throw new HuskError('invalid-value', 'ns create: a user cannot pin namespaces yet: a pin is a bind mount in the host\'s mount namespace, which needs root');
      const idmap = cmd.types.includes('user') ? await pinnedUserMaps(root, cmd.uidmap, cmd.gidmap) : undefined;
      await store.createNamespaces(root, cmd.name, cmd.types, cmd.timeOffsets, idmap);
      process.stdout.write(`${cmd.name}\n`);
      const init = store.holderOf(root, cmd.name);
      // Said, because it is a process a user may meet in ps: the pid namespace needs it.
      if (init) process.stderr.write(`husk: namespace ${cmd.name}: its pid namespace is held by husk's init, pid ${init.pid} (until husk ns rm ${cmd.name})\n`);
      return 0;
    }
    case 'ls': {
      const all = store.describeNamespaces(root, store.nsNames(root), await liveRecords(root));
      if (cmd.format === 'json') {
        for (const [name, list] of all) for (const ns of list) process.stdout.write(`${JSON.stringify(row(name, ns))}\n`);
        return 0;
      }
      const rows = [['NAME', 'TYPE', 'NS', 'NPROCS', 'PINNED', 'CONTAINERS']];
      for (const [name, list] of all) {
        for (const ns of list) rows.push([escapeControls(name), ns.type, ns.inode === undefined ? '-' : String(ns.inode), String(ns.processes), ns.pinned ? (ns.init !== undefined ? `yes (init ${ns.init})` : 'yes') : 'stale', ns.containers.join(',')]);
      }
      process.stdout.write(table(rows));
      return 0;
    }
    case 'inspect': {
      const out: unknown[] = [];
      let failed = 0;
      const records = await liveRecords(root);
      for (const name of cmd.names) {
        try {
          store.checkNsName(name);
          const list = store.describeNamespaces(root, [name], records).get(name)!;
          out.push({ Name: name, Path: store.nsDir(root, name), Namespaces: list.map((ns) => row(name, ns)) });
        } catch (err) {
          process.stderr.write(reportText(err, false));
          failed++;
        }
      }
      process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
      return failed ? STATUS_SOME_TARGETS_FAILED : 0;
    }
    case 'rm': {
      let failed = 0;
      const records = await liveRecords(root);
      for (const name of cmd.names) {
        try {
          store.checkNsName(name);
          const list = store.describeNamespaces(root, [name], records).get(name)!;
          const busy = list.filter((ns) => ns.processes > 0);
          if (busy.length > 0 && !cmd.force) {
            const users = [...new Set(busy.flatMap((ns) => ns.containers))];
            throw new HuskError('invalid-value', `cannot remove namespace ${name}: it is in use by ${Math.max(...busy.map((ns) => ns.processes))} process(es)${users.length ? ` (containers: ${users.join(', ')})` : ''}`, { hint: 'Stop them first, or use husk ns rm -f (the namespace then lives on only while they do).' });
          }
          await store.removeNamespaces(root, name);
          process.stdout.write(`${escapeControls(name)}\n`);
        } catch (err) {
          process.stderr.write(reportText(err, false));
          failed++;
        }
      }
      return failed ? STATUS_SOME_TARGETS_FAILED : 0;
    }
  }
}
