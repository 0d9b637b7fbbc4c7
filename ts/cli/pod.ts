// husk pod: pods without a pause process. A pod is pinned namespaces (net, ipc, uts by
// default; `husk ns ls` shows them as pod.NAME) and a cgroup parent; `run --pod NAME` joins
// them, so its containers reach each other on 127.0.0.1. `pod rm` unpins them and removes
// the cgroup parent (refused while the pod has containers, unless -f: they are removed too).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PodCommand } from './args-execns.js';
import { HuskError, escapeControls, reportText } from '../errors.js';
import { STATUS_SOME_TARGETS_FAILED } from '../runtime/exit-status.js';
import type { ContainerRecord } from '../runtime/state.js';

async function records(root: string): Promise<ContainerRecord[]> {
  const { sweep } = await import('../runtime/records.js');
  const { cgroupHost } = await import('../cgroup/host.js');
  return sweep(root, cgroupHost);
}

const nameOf = (r: ContainerRecord) => r.name ?? r.id.slice(0, 12);

export async function podCommand(root: string, cmd: PodCommand): Promise<number> {
  const pods = await import('../runtime/pods.js');
  const store = await import('../runtime/ns-store.js');
  switch (cmd.action) {
    case 'create': {
      const share = pods.parseShare(cmd.share ?? pods.POD_SHARE_DEFAULT.join(','));
      // A pod's namespaces are pinned (bind mounts in the host's mount namespace), as ns create's.
      const { caller } = await import('../runtime/userns.js');
      if (caller().rootless) throw new HuskError('invalid-value', 'pod create: a user cannot make pods yet: a pod\'s namespaces are pinned by bind mounts in the host\'s mount namespace, which needs root');
      const pod = pods.newPodRecord(cmd.name, share);
      if (pods.podNames(root).includes(cmd.name)) throw new HuskError('invalid-value', `the pod name "${cmd.name}" is already in use`, { hint: 'Remove that pod (husk pod rm) to reuse the name.' });
      await store.createNamespaces(root, pod.nsName, share);
      try {
        pods.writePod(root, pod);
      } catch (err) {
        await store.removeNamespaces(root, pod.nsName);
        throw err;
      }
      process.stdout.write(`${cmd.name}\n`);
      return 0;
    }
    case 'ls': {
      const all = await records(root);
      const list = pods.podNames(root).map((n) => {
        const pod = pods.readPod(root, n);
        const members = all.filter((r) => r.pod === n);
        return { Name: n, Created: pod.created, Share: pod.share, Namespaces: pod.nsName, CgroupParent: pod.cgroupParent, Containers: members.map(nameOf) };
      });
      if (cmd.format === 'json') {
        for (const p of list) process.stdout.write(`${JSON.stringify(p)}\n`);
        return 0;
      }
      const rows = [['NAME', 'SHARED', 'CGROUP PARENT', 'CONTAINERS'], ...list.map((p) => [escapeControls(p.Name), p.Share.join(','), p.CgroupParent, p.Containers.map(escapeControls).join(',')])];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n') + '\n');
      return 0;
    }
    case 'rm': {
      let failed = 0;
      for (const name of cmd.names) {
        try {
          await removePod(root, name, cmd.force);
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

async function removePod(root: string, name: string, force: boolean): Promise<void> {
  const pods = await import('../runtime/pods.js');
  const store = await import('../runtime/ns-store.js');
  const pod = pods.readPod(root, name);
  const members = (await records(root)).filter((r) => r.pod === name);
  if (members.length > 0) {
    if (!force) throw new HuskError('invalid-value', `cannot remove pod ${name}: it has containers (${members.map(nameOf).join(', ')})`, { hint: 'Remove them first, or use husk pod rm -f.' });
    const { rmCommand } = await import('./rm.js');
    const status = await rmCommand({ name: 'rm', global: { root }, force: true, targets: members.map((m) => m.id) } as Parameters<typeof rmCommand>[0]);
    if (status !== 0) throw new HuskError('launcher', `cannot remove pod ${name}: its containers could not all be removed`);
  }
  if (store.nsNames(root).includes(pod.nsName)) await store.removeNamespaces(root, pod.nsName);
  const { cgroupHost } = await import('../cgroup/host.js');
  const host = await cgroupHost();
  const dirs = host.hierarchies.map((h) => join(h.mountpoint, pod.cgroupParent)).filter((d) => existsSync(d));
  if (dirs.length > 0) {
    const { removeCgroups } = await import('../runtime/control.js');
    const left = await removeCgroups(host.hierarchies, dirs);
    if (left.length > 0) throw new HuskError('launcher', `cannot remove the cgroups of pod ${name}: ${left.join(', ')} still busy`);
  }
  pods.removePodRecord(root, name);
}
