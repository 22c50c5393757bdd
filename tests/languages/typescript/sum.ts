import * as fs from "fs";

const [a, b]: number[] = fs.readFileSync(0, "utf8").trim().split(/\s+/).map(Number);
console.log(a + b);
