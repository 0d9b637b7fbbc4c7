// husk-runc: runc's command line over husk's core and launcher (docs/runc-cli.md), for the
// engines that call a runtime by path (podman --runtime, containerd's runc shim). Errors are
// one line on stderr (and in --log, as text or JSON), exit status 1, as runc's.
import { escapeControls, HuskError } from '../errors.js';
import { parseRuncArgs, RuncError } from './args.js';
import type { RuncGlobal } from './args.js';
import { log } from './log.js';

export const HUSK_RUNC_VERSION = '0.1.0';
const SPEC_VERSION = '1.0.2';

const HELP = `husk-runc: runc's command line for husk (OCI runtime spec ${SPEC_VERSION})

Usage: husk-runc [global options] COMMAND [options] [ID]

Commands:
  create --bundle DIR [--pid-file F] [--console-socket S] [--preserve-fds N] ID
                                          set the container up; its init waits for start
  start ID                                run the container's process
  run [--bundle DIR] [-d] [--pid-file F] ID   create and start (foreground: wait for it)
  exec [--process F] [-d] [--pid-file F] [--cwd D] [--env K=V] [--user U:G] [--cap C] ID [CMD...]
                                          a new process in a running container
  state ID                                the OCI state JSON
  kill [--all] ID [SIGNAL]                signal the init (default SIGTERM)
  delete [--force] ID                     remove a stopped (or, with --force, any) container
  pause ID, resume ID                     freeze and thaw every process of the container
  ps [--format table|json] ID [PS-ARGS]   the container's processes (json: their pids)
  update [--resources FILE|-] [--memory M] [--cpu-quota N] [--pids-limit N] ... ID
                                          new cgroup limits (memory, cpu, cpuset, pids, blkio)
  events [--stats] [--interval 5s] ID     resource use as JSON lines (--stats: one)
  list [--format table|json] [-q]         containers under --root
  spec [--bundle DIR] [--rootless]        write a config.json to start from
  features                                what husk-runc supports, as OCI features JSON

Global options:
  --root DIR           state directory (default /run/husk-runc)
  --log FILE           also write errors (and --debug lines) to FILE
  --log-format FORMAT  text or json (default text)
  --debug              log what each command does
  --systemd-cgroup     refused: husk-runc manages cgroupfs paths only
  -v, --version        print the version
`;

function messageOf(err: unknown): string {
  if (err instanceof RuncError || err instanceof HuskError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e instanceof Error && typeof e.code === 'string') return `${e.syscall ?? 'error'}${e.path ? ` ${e.path}` : ''}: ${e.code}`;
  return `internal error: ${err instanceof Error ? err.message : String(err)}`;
}

export async function main(argv: readonly string[]): Promise<number> {
  let global: RuncGlobal | undefined;
  try {
    const parsed = parseRuncArgs(argv, process.cwd());
    global = parsed.global;
    const cmd = parsed.command;
    if (global.debug) log(global, 'debug', `husk-runc ${argv.join(' ')}`);
    if (global.systemdCgroup) throw new RuncError('--systemd-cgroup: systemd is not running here, so husk-runc cannot use it as the cgroup manager (use cgroupfs)');
    const root = global.root;
    switch (cmd.name) {
      case 'version':
        process.stdout.write(`husk-runc version ${HUSK_RUNC_VERSION}\nspec: ${SPEC_VERSION}\n`);
        return 0;
      case 'help':
        process.stdout.write(HELP);
        return 0;
      case 'create':
      case 'run': {
        const { createCommand } = await import('./create.js');
        return await createCommand(global, cmd);
      }
      case 'exec': {
        const { execCommand } = await import('./exec.js');
        return await execCommand(root, cmd);
      }
      case 'start': {
        const { startContainer } = await import('./start.js');
        await startContainer(root, cmd.id);
        return 0;
      }
      case 'state': {
        const { stateCommand } = await import('./commands.js');
        return stateCommand(root, cmd.id);
      }
      case 'kill': {
        const { killCommand } = await import('./commands.js');
        return await killCommand(root, cmd);
      }
      case 'delete': {
        const { deleteCommand } = await import('./commands.js');
        return await deleteCommand(root, cmd);
      }
      case 'pause':
      case 'resume': {
        const { pauseCommand } = await import('./pause.js');
        return await pauseCommand(root, cmd.id, cmd.name === 'pause');
      }
      case 'ps': {
        const { psCommand } = await import('./ps.js');
        return await psCommand(root, cmd);
      }
      case 'update': {
        const { updateCommand } = await import('./update.js');
        return await updateCommand(root, cmd);
      }
      case 'events': {
        const { eventsCommand } = await import('./events.js');
        return await eventsCommand(root, cmd);
      }
      case 'list': {
        const { listCommand } = await import('./commands.js');
        return listCommand(root, cmd);
      }
      case 'spec': {
        const { specCommand } = await import('./spec.js');
        return specCommand(cmd.bundle, cmd.rootless);
      }
      case 'features': {
        const { featuresCommand } = await import('./spec.js');
        return featuresCommand();
      }
    }
  } catch (err) {
    const msg = escapeControls(messageOf(err));
    log(global, 'error', msg);
    process.stderr.write(`husk-runc: ${msg}\n`);
    return err instanceof RuncError ? err.status : 1;
  }
}
