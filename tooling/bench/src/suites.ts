// Every benchmark suite, by name (`pnpm bench <name>`). Add a line per suite.
import { registerSuite } from './cli.js';

void registerSuite;
