#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    console.error('spamgate: not built yet; run `npm install` (or `npm run build`) in the spamgate folder first');
    process.exit(2);
  }
  throw err;
});
