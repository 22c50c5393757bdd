for (const arg of process.argv.slice(2)) {
  process.stdout.write(Buffer.byteLength(arg) + ":" + arg + "\n");
}
