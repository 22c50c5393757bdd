// The loader of a prepared Node.js runtime (languages/README.md, "prepare").
// The step put this file at /tmp/.sandpool/prepare.js and started the run
// command with NODE_OPTIONS="--require /tmp/.sandpool/prepare.js", before
// the job came: Node loads it before the main module, which it has not
// opened yet. It takes itself and that variable away, waits on descriptor
// 3 for the job's arguments (each NUL-terminated, up to the end of the
// stream), adds them to process.argv and returns: Node then loads the main
// module as it would have from the start.
'use strict';
{
  const fs = require('fs');
  fs.unlinkSync(__filename);
  fs.rmdirSync(require('path').dirname(__filename));
  delete process.env.NODE_OPTIONS;
  const chunks = [];
  const buffer = Buffer.alloc(65536);
  for (;;) {
    const n = fs.readSync(3, buffer, 0, buffer.length, null);
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  fs.closeSync(3);
  const data = Buffer.concat(chunks);
  for (let start = 0, end; (end = data.indexOf(0, start)) >= 0; start = end + 1)
    process.argv.push(data.toString('utf8', start, end));
  delete require.cache[__filename];
}
