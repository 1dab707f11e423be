#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { inspectCommand } from './inspect-command.ts';
import { recordCommand } from './record-command.ts';
import { runCommand } from './run-command.ts';
import { simulateCommand } from './simulate-command.ts';

// Each command lives in its own file and is registered here, in one place.
await yargs(hideBin(process.argv))
  .scriptName('workerpool-operator')
  .command(runCommand)
  .command(simulateCommand)
  .command(inspectCommand)
  .command(recordCommand)
  .demandCommand(1, 'name a command: run')
  .strict()
  .help()
  .parseAsync();
