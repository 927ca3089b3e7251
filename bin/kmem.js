#!/usr/bin/env node
// The kmem command. The sources are TypeScript run as they are: register
// tsx's loader, then load the command line (src/cli/main.ts).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
