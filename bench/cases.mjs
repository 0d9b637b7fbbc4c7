// The cases of the bench: what each runs, against which floor its ratio is taken, and how the
// features husk does not have yet are asked for (so that they light up without bench changes
// once husk accepts them; edit LIMITS / LAYERED here if the final flag names differ).
import path from 'node:path';

export const LIMITS = {
  cli: ['--memory', '64m', '--pids-limit', '64'],
  api: { memory: '64m', pidsLimit: 64 },
  bytes: 64 * 1024 * 1024,
  pids: 64,
};

/**
 * The 3-layer image, loaded into husk's store ($HUSK_STORAGE, bench/bench.mjs loadImages) from
 * the OCI layout bench/work/image-oci (ref.name husk-bench/layers:3); and the rootfs as 1 and 300 layers.
 */
export const LAYERED = {
  cli: () => ['husk-bench/layers:3'],
  api: () => ({ image: 'husk-bench/layers:3' }),
};
export const MANY = { one: 'husk-bench/layers:1', many: 'husk-bench/layers:300' };

/**
 * Every case, in table order. kind: 'exec' (runner forks and execs argv), 'pipe' (a server:
 * the API child), or 'na' (never runnable here, with the reason). floor: the case its ratio
 * is taken against. group: how the table groups them.
 */
export function buildCases(ctx) {
  const { node, repo, huskRoot, rootfs, layers, oci, floor, floorArgs, plans, bundles, state, holderNs } = ctx;
  const husk = [node, path.join(repo, 'bin/husk.js'), '--root', huskRoot];
  const launcher = path.join(repo, 'zig-out/bin/husk-launcher');
  const apiChild = (variant) => [node, path.join(repo, 'bench/api-child.mjs'), JSON.stringify({
    root: huskRoot, rootfs, variant, mode: 'serve', limits: LIMITS.api, layers: LAYERED.api(oci), many: MANY,
  })];
  const bwrap = ['bwrap', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup',
    '--ro-bind', rootfs, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--hostname', 'bench'];
  const bwrapLayers = ['bwrap', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup',
    ...layers.flatMap((l) => ['--overlay-src', l]), '--ro-overlay', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--hostname', 'bench'];
  const id = `hb${process.pid}-{i}`;
  const NO_LIMITS = 'no cgroup support';
  const ONE_ROOT = 'takes one root directory (an engine above it assembles layers)';

  return [
    // husk, the three ways in
    { name: 'husk-cli', group: 'husk', what: 'husk run from a cold shell (node bin/husk.js run --rootfs)', floor: 'floor', kind: 'exec', husk: true,
      argv: [...husk, 'run', '--network', 'none', '--rootfs', rootfs, '--', '/bin/true'] },
    { name: 'husk-launcher', group: 'husk', what: 'husk-launcher < plan.bin (saved with husk plan --save)', floor: 'floor', kind: 'exec', husk: true,
      argv: [launcher], stdin: plans.basic, plan: { args: ['--rootfs', rootfs] } },
    { name: 'husk-api', group: 'husk', what: 'API, warm orchestrator: await husk.run() start→exit, hrtime', floor: 'floor', kind: 'pipe', husk: true,
      argv: apiChild('basic') },
    { name: 'husk-api-spawn', group: 'husk', what: 'API with {server: false}: one husk-launcher spawned from Node per container (the path before the server)', floor: 'floor', kind: 'pipe', husk: true,
      argv: apiChild('spawn') },
    { name: 'husk-api-prepared', group: 'husk', what: 'API, sandbox created ahead: start() only', floor: 'floor', kind: 'pipe', husk: true,
      argv: apiChild('prepared') },
    // with limits
    { name: 'husk-cli+limits', group: 'limits', what: `husk run ${LIMITS.cli.join(' ')}`, floor: 'floor+limits', kind: 'exec', husk: true,
      argv: [...husk, 'run', '--network', 'none', ...LIMITS.cli, '--rootfs', rootfs, '--', '/bin/true'] },
    { name: 'husk-launcher+limits', group: 'limits', what: 'launcher alone, plan with the limits', floor: 'floor+limits', kind: 'exec', husk: true,
      argv: [launcher], stdin: plans.limits, plan: { args: [...LIMITS.cli, '--rootfs', rootfs] } },
    { name: 'husk-api+limits', group: 'limits', what: `API with ${JSON.stringify(LIMITS.api)}`, floor: 'floor+limits', kind: 'pipe', husk: true,
      argv: apiChild('limits') },
    { name: 'runc+limits', group: 'limits', what: 'runc run, memory 64m + pids 64 (v1 cgroups)', floor: 'floor+limits', kind: 'exec',
      argv: ['runc', '--root', state.runc, 'run', '--bundle', bundles.runcLimits, id], cleanupIds: 'runc' },
    { name: 'crun+limits', group: 'limits', what: 'crun run, memory 64m + pids 64 (v1, private mount ns)', floor: 'floor+limits', kind: 'exec',
      argv: ['crun', '--root', state.crun, 'run', '--bundle', bundles.crunLimits, id], mntns: holderNs, cleanupIds: 'crun' },
    { name: 'bwrap+limits', group: 'limits', what: 'bwrap', floor: 'floor+limits', kind: 'na', reason: `n/a: bwrap has ${NO_LIMITS}` },
    { name: 'unshare+limits', group: 'limits', what: 'unshare(1)', floor: 'floor+limits', kind: 'na', reason: `n/a: unshare(1) has ${NO_LIMITS}` },
    { name: 'floor+limits', group: 'limits', what: "floor.c: husk's plan with the limits (memory, memsw, pids.max written), in C", floor: 'floor+limits', kind: 'exec',
      argv: [floor, ...floorArgs, '--rootfs', rootfs, '--memory', String(LIMITS.bytes), '--pids', String(LIMITS.pids)] },
    // 3-layer image
    { name: 'husk-cli+3layers', group: 'layers', what: 'husk run with a 3-layer OCI image', floor: 'floor+3layers', kind: 'exec', husk: true,
      argv: [...husk, 'run', '--network', 'none', ...LAYERED.cli(oci), '--', '/bin/true'] },
    { name: 'husk-launcher+3layers', group: 'layers', what: 'launcher alone, plan of the 3-layer image', floor: 'floor+3layers', kind: 'exec', husk: true,
      argv: [launcher], stdin: plans.layers, plan: { args: [...LAYERED.cli(oci)] } },
    { name: 'husk-api+3layers', group: 'layers', what: 'API with the 3-layer image', floor: 'floor+3layers', kind: 'pipe', husk: true,
      argv: apiChild('layers') },
    { name: 'bwrap+3layers', group: 'layers', what: 'bwrap --overlay-src ×3 --ro-overlay /', floor: 'floor+3layers', kind: 'exec',
      argv: [...bwrapLayers, '/bin/true'] },
    { name: 'runc+3layers', group: 'layers', what: 'runc', floor: 'floor+3layers', kind: 'na', reason: `n/a: runc ${ONE_ROOT}` },
    { name: 'crun+3layers', group: 'layers', what: 'crun', floor: 'floor+3layers', kind: 'na', reason: `n/a: crun ${ONE_ROOT}` },
    { name: 'floor+3layers', group: 'layers', what: 'floor.c, overlay of the 3 layer dirs', floor: 'floor+3layers', kind: 'exec',
      argv: [floor, ...floorArgs, '--layers', layers.join(':')] },
    // start of a 1-layer image beside a 300-layer one (the same files, against the plain floor)
    { name: 'husk-launcher+1layer', group: 'many', what: 'launcher alone, plan of the rootfs as a 1-layer image', floor: 'floor', kind: 'exec', husk: true,
      argv: [launcher], stdin: plans.one, plan: { args: [MANY.one] } },
    { name: 'husk-launcher+300layers', group: 'many', what: 'launcher alone, plan of the rootfs as a 300-layer image (lowerdir+ ×300)', floor: 'floor', kind: 'exec', husk: true,
      argv: [launcher], stdin: plans.many, plan: { args: [MANY.many] } },
    { name: 'husk-api+1layer', group: 'many', what: 'API with the 1-layer image', floor: 'floor', kind: 'pipe', husk: true,
      argv: apiChild('one') },
    { name: 'husk-api+300layers', group: 'many', what: 'API with the 300-layer image', floor: 'floor', kind: 'pipe', husk: true,
      argv: apiChild('many') },
    // peers
    { name: 'runc', group: 'peers', what: 'runc run (OCI bundle, read-only root, own cgroup)', floor: 'floor', kind: 'exec',
      argv: ['runc', '--root', state.runc, 'run', '--bundle', bundles.runc, id], cleanupIds: 'runc' },
    { name: 'crun', group: 'peers', what: 'crun run (same bundle, in a private mount ns without cgroup2)', floor: 'floor', kind: 'exec',
      argv: ['crun', '--root', state.crun, 'run', '--bundle', bundles.crun, id], mntns: holderNs, cleanupIds: 'crun' },
    { name: 'bwrap', group: 'peers', what: 'bwrap --unshare-{pid,net,ipc,uts,cgroup} --ro-bind --proc --dev --tmpfs /tmp', floor: 'floor', kind: 'exec',
      argv: [...bwrap, '/bin/true'] },
    { name: 'unshare', group: 'peers', what: 'unshare -fpmiun --mount-proc chroot ROOTFS /bin/true', floor: 'floor', kind: 'exec',
      argv: ['unshare', '-fpmiun', '--mount-proc', 'chroot', rootfs, '/bin/true'] },
    // floors and baselines
    { name: 'floor', group: 'floor', what: "floor.c: husk's plan op for op, in C (own cgroup in every hierarchy)", floor: 'floor', kind: 'exec',
      argv: [floor, ...floorArgs, '--rootfs', rootfs] },
    { name: 'floor-nocgroups', group: 'floor', what: 'floor.c --no-cgroups: the same without the cgroup work (clone with NEWCGROUP instead)', floor: 'floor', kind: 'exec',
      argv: [floor, ...floorArgs, '--no-cgroups', '--rootfs', rootfs] },
    { name: 'floor-chroot', group: 'floor', what: 'floor.c --chroot-only: clone(same ns) + chroot + execve', floor: 'floor', kind: 'exec',
      argv: [floor, '--chroot-only', '--rootfs', rootfs] },
    { name: 'node-e-0', group: 'baseline', what: "node -e 0: Node's own start", floor: 'floor', kind: 'exec', argv: [node, '-e', '0'] },
    { name: 'host-true', group: 'baseline', what: "/bin/true on the host: the runner's fork+exec+wait", floor: 'floor', kind: 'exec', argv: ['/bin/true'] },
  ];
}
