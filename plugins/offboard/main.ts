import { runPlugin } from '../../shared/cli/runner.ts';
import('./command.ts').then(({ plugin }) => runPlugin(plugin));
