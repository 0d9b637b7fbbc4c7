// The husk command: parse, then load only what the chosen command needs.
import { exitStatusOf, reportText } from '../errors.js';
import { parseArgs } from './args.js';

let command: string | undefined;

/** The command main() ran last (bin/husk.js keeps the code a `run` compiled). */
export function lastCommand(): string | undefined {
  return command;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const cmd = parseArgs(argv);
    command = cmd.name;
    switch (cmd.name) {
      case 'help': {
        const { helpText } = await import('./help.js');
        process.stdout.write(helpText(cmd.topic));
        return 0;
      }
      case 'version': {
        const { versionText } = await import('./version.js');
        process.stdout.write(versionText());
        return 0;
      }
      case 'info': {
        const { infoCommand } = await import('./info.js');
        return await infoCommand(cmd.format, cmd.global);
      }
      case 'run': {
        const { runCommand } = await import('./run.js');
        return await runCommand(cmd.global, cmd.flags);
      }
      case 'create': {
        const { createCommand } = await import('./create.js');
        return await createCommand(cmd.global, cmd.flags);
      }
      case 'start': {
        const { startCommand } = await import('./start.js');
        return await startCommand(cmd);
      }
      case 'stop':
      case 'restart': {
        const { stopCommand } = await import('./stop.js');
        return await stopCommand(cmd);
      }
      case 'kill': {
        const { killCommand } = await import('./kill.js');
        return await killCommand(cmd);
      }
      case 'wait': {
        const { waitCommand } = await import('./wait.js');
        return await waitCommand(cmd);
      }
      case 'plan': {
        const { planCommand } = await import('./plan.js');
        return await planCommand(cmd.global, cmd.flags, { save: cmd.save, format: cmd.format, hostCgroups: cmd.hostCgroups });
      }
      case 'ps': {
        const { psCommand } = await import('./ps.js');
        return await psCommand(cmd);
      }
      case 'inspect': {
        const { inspectCommand } = await import('./inspect.js');
        return await inspectCommand(cmd);
      }
      case 'rm': {
        const { rmCommand } = await import('./rm.js');
        return await rmCommand(cmd);
      }
      case 'pause':
      case 'unpause': {
        const { pauseCommand } = await import('./pause.js');
        return await pauseCommand(cmd);
      }
      case 'stats': {
        const { statsCommand } = await import('./stats.js');
        return await statsCommand(cmd);
      }
      case 'diff':
      case 'commit':
      case 'export':
      case 'cp': {
        const { containerFsCommand } = await import('./container-fs.js');
        return await containerFsCommand(cmd);
      }
      case 'exec':
      case 'ns':
      case 'pod':
      case 'enter': {
        const { execNsCommand } = await import('./execns.js');
        return await execNsCommand(cmd);
      }
      case 'network':
      case 'port': {
        const { networkCommand } = await import('./network.js');
        return await networkCommand(cmd);
      }
      case 'top': {
        const { topCommand } = await import('./top.js');
        return await topCommand(cmd);
      }
      case 'logs': {
        const { logsCommand } = await import('./logs.js');
        return await logsCommand(cmd);
      }
      case 'pull': {
        const { pullCommand } = await import('./pull.js');
        return await pullCommand(cmd);
      }
      case 'push': {
        const { pushCommand } = await import('./push.js');
        return await pushCommand(cmd);
      }
      case 'login':
      case 'logout': {
        const { loginCommand, logoutCommand } = await import('./login.js');
        return cmd.name === 'login' ? await loginCommand(cmd) : await logoutCommand(cmd);
      }
      case 'attach': {
        const { attachCommand } = await import('./attach.js');
        return await attachCommand(cmd);
      }
      case 'load':
      case 'import':
      case 'save':
      case 'images':
      case 'rmi':
      case 'tag':
      case 'image-inspect':
      case 'image-prune':
      case 'system-df': {
        const { imageCommand } = await import('./images.js');
        return await imageCommand(cmd);
      }
    }
  } catch (err) {
    reportError(err);
    return exitStatusOf(err);
  }
}

/** The one way an error reaches a person: one escaped line (and a hint) on stderr. */
export function reportError(err: unknown): void {
  process.stderr.write(reportText(err, Boolean(process.env.HUSK_DEBUG)));
}
