#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCommand } from './run-command.ts';

// Each command lives in its own file and is registered here, in one place.
await yargs(hideBin(process.argv))
  .scriptName('workerpool-operator')
  .command(runCommand)
  .demandCommand(1, 'name a command: run')
  .strict()
  .help()
  .parseAsync();
