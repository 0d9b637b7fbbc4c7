// What the kubelet does, against Debian's containerd 1.6 started by the suite
// (containerd-harness.ts) with its CRI plugin set to run every pod through the
// io.containerd.runc.v2 shim with husk-runc as its runc binary (BinaryName). The test is the
// kubelet: a CRI client over gRPC (cri/client.ts) runs a pod sandbox (the pause image is one
// the suite built), creates and starts a container in it, execs into it, reads its stats, and
// stops and removes both. Pods use the host's network (no CNI config is given), so nothing
// reaches any address.
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir } from './helpers.js';
import { cgroupMounts } from './cgroup-setup.js';
import { useLeakCheck } from './leak-check.js';
import { hasContainerd, importImage, startContainerd, type Containerd } from './containerd-harness.js';
import { criClient, type CriClient } from './cri/client.js';

const dir = suiteDir('containerd-cri');
const image = 'localhost/husk-cri-test:1';
const pause = 'localhost/husk-cri-pause:1';
let cd: Containerd;
let cri: CriClient;
let pods = 0;

/** The CRI plugin's config: husk-runc through the runc v2 shim, the suite's pause image, no CNI. */
const criConfig = (d: string) =>
  [
    `  sandbox_image = "${pause}"`,
    '  disable_apparmor = true',
    // Root here lacks CAP_SYS_RESOURCE, which lowering oom_score_adj needs (the pause container
    // asks for -998): containerd's own switch for that case keeps it at containerd's own score.
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "husk"',
    '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk]',
    '      runtime_type = "io.containerd.runc.v2"',
    '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk.options]',
    `        BinaryName = "${join(d, 'husk-runc')}"`,
    `        Root = "${join(d, 'runc-root')}"`,
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    `    bin_dir = "${join(d, 'cni-bin')}"`,
    `    conf_dir = "${join(d, 'cni-conf')}"`,
  ].join('\n');

/** The pod cgroups the kubelet would make and remove: husk-runc makes them as its containers' parents. */
const podCgroups = () => cgroupMounts().flatMap((m) => {
  const parent = join(m, `${process.env.HUSK_CGROUP_PARENT}`);
  return existsSync(parent) ? readdirSync(parent).filter((n) => n.startsWith('pod-')).map((n) => join(parent, n)) : [];
});

useLeakCheck({
  // What a test left: its pods stopped and removed through CRI, then the pod cgroups, as the kubelet would.
  cleanup: async () => {
    if (!cd) return;
    for (const id of cd.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      await cri.StopPodSandbox({ podSandboxId: id }).catch(() => undefined);
      await cri.RemovePodSandbox({ podSandboxId: id }).catch(() => undefined);
    }
    for (const cg of podCgroups()) rmdirSync(cg);
  },
});

beforeAll(async () => {
  if (!hasContainerd) return;
  cd = await startContainerd(dir, { namespace: 'k8s.io', cri: criConfig });
  importImage(cd, pause, { Cmd: ['sleep', '1000000'] });
  importImage(cd, image);
  cri = criClient(cd.address);
  await cri.Version({ version: 'v1' }); // the connection is made here, not in a test (the leak check counts fds)
});
afterAll(async () => {
  cri?.close();
  await cd?.stop();
});

function podConfig() {
  const n = ++pods;
  return {
    metadata: { name: `pod${n}`, uid: `uid-${n}`, namespace: 'husk-test', attempt: 0 },
    logDirectory: join(dir, 'logs', `pod${n}`),
    linux: {
      cgroupParent: `/${process.env.HUSK_CGROUP_PARENT}/pod-${n}`,
      securityContext: { namespaceOptions: { network: 'NODE', pid: 'POD', ipc: 'POD' } },
    },
  };
}

const stateOf = async (id: string) => (await cri.ListContainers({ filter: { id } })).containers[0]?.state;

describe.skipIf(!hasContainerd)('containerd 1.6 CRI plugin with husk-runc (BinaryName) through the runc v2 shim', () => {
  it('runs a pod: sandbox, container, exec, stats, stop and remove, each through husk-runc', async () => {
    const version = await cri.Version({ version: 'v1' });
    expect(version.runtimeName).toBe('containerd');

    const sandboxConfig = podConfig();
    const { podSandboxId } = await cri.RunPodSandbox({ config: sandboxConfig, runtimeHandler: 'husk' });
    expect(podSandboxId).toMatch(/^[0-9a-f]{64}$/);
    const { containerId } = await cri.CreateContainer({
      podSandboxId,
      sandboxConfig,
      config: {
        metadata: { name: 'app', attempt: 0 },
        image: { image },
        command: ['sh', '-c'],
        args: ['echo "started with $GREETING"; trap "echo stopping; exit 0" TERM; while :; do sleep 0.1; done'],
        envs: [{ key: 'GREETING', value: 'hello' }],
        logPath: 'app.log',
      },
    });
    await cri.StartContainer({ containerId });
    expect(await stateOf(containerId)).toBe('CONTAINER_RUNNING');

    // The container shares the pod's pid namespace (joined by path): its pid 1 is the pause process.
    const exec = await cri.ExecSync({ containerId, cmd: ['sh', '-c', 'echo "$GREETING $(cat /proc/1/cmdline | tr "\\0" " ")"; echo oops >&2; exit 3'], timeout: 30 });
    expect(exec.stdout.toString()).toBe('hello sleep 1000000 \n');
    expect(exec.stderr.toString()).toBe('oops\n');
    expect(exec.exitCode).toBe(3);

    const { stats } = await cri.ContainerStats({ containerId });
    expect(stats.attributes.id).toBe(containerId);
    expect(Number(stats.cpu.usageCoreNanoSeconds.value)).toBeGreaterThan(0);
    expect(Number(stats.memory.workingSetBytes.value)).toBeGreaterThan(0);

    const listed = (await cri.ListContainers({ filter: { podSandboxId } })).containers;
    expect(listed.map((c: any) => [c.id, c.metadata.name, c.state])).toEqual([[containerId, 'app', 'CONTAINER_RUNNING']]);

    await cri.StopContainer({ containerId, timeout: 10 });
    expect(await stateOf(containerId)).toBe('CONTAINER_EXITED');
    const log = readFileSync(join(sandboxConfig.logDirectory, 'app.log'), 'utf8');
    expect(log).toMatch(/ stdout F started with hello\n.* stdout F stopping\n$/);
    await cri.RemoveContainer({ containerId });
    await cri.StopPodSandbox({ podSandboxId });
    await cri.RemovePodSandbox({ podSandboxId });
    expect((await cri.ListContainers({})).containers).toEqual([]);

    // The shim ran both the sandbox and the container with husk-runc, and husk-runc's state is gone.
    const calls = cd.calls();
    for (const id of [podSandboxId, containerId]) {
      const verbs = calls.filter((c) => c.includes(id)).map((c) => c[0]);
      expect(verbs.slice(0, 2)).toEqual(['create', 'start']);
      expect(verbs).toContain('delete');
    }
    expect(calls.some((c) => c[0] === 'exec' && c.at(-1) === containerId)).toBe(true);
    expect(readdirSync(join(cd.runcRoot, cd.namespace))).toEqual([]);
    for (const cg of podCgroups()) expect(readdirSync(cg, { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
  });
});
