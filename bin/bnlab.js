#!/usr/bin/env node
// The bnlab command: runs the compiled CLI (npm ci / npm run build produce dist/).
import('../dist/src/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli')) {
    console.error('bnlab: the compiled CLI is missing; run `npm run build` (npm ci does it) in the bnlab folder.');
    process.exit(1);
  }
  throw error;
});
