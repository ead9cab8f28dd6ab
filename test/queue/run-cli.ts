// Runs the `convnet` command from the TypeScript sources (the tests spawn workers with it).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
