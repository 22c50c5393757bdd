const input = require("fs").readFileSync(0, "utf8");
const [a, b] = input.trim().split(/\s+/).map(BigInt);
console.log((a + b).toString());
