import { open } from "./_clients.mjs";
const client = await open({ broker: "nats", client: process.argv[2], url: "nats://127.0.0.1:14222", namespace: "c" });
let n = 0;
const cpu = () => { const { user, system } = process.cpuUsage(); return user + system; };
let c0 = 0;
const N = Number(process.argv[3]);
await client.subscribe(() => { n++; if (n === 20000) c0 = cpu(); if (n === N) { console.log(((cpu() - c0) / (N - 20000)).toFixed(3)); process.exit(0); } });
console.log("ready");
