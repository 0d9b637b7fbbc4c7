// exec, enter, ns and pod: the commands that work with namespaces that exist.
import type { ExecNsCommand } from './args-execns.js';

export async function execNsCommand(cmd: ExecNsCommand): Promise<number> {
  switch (cmd.name) {
    case 'exec': {
      const { execCommand } = await import('../runtime/exec.js');
      return await execCommand(cmd.global.root, cmd.flags);
    }
    case 'pod': {
      const { podCommand } = await import('./pod.js');
      return await podCommand(cmd.global.root, cmd.pod);
    }
    case 'enter': {
      const { enterCommand } = await import('../runtime/enter.js');
      return await enterCommand(cmd.global.root, cmd.enter);
    }
    case 'ns': {
      const { nsCommand } = await import('./ns.js');
      return await nsCommand(cmd.global.root, cmd.ns);
    }
  }
}
