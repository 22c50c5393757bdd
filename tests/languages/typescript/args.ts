// BYTES:ARG for each argument, BYTES its length in UTF-8.
for (const arg of process.argv.slice(2)) {
    process.stdout.write(`${Buffer.byteLength(arg, "utf8")}:${arg}\n`);
}
