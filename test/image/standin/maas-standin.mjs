// `maas-region` / `maas-rack` in the MAAS stand-in image: records where it ran (its command and
// PID 1 as it sees it) in /run/maas-standin.log, then runs the simulator's stand-in for that CLI,
// bound to the simulator at MAAS_SIM_URL.
import { appendFileSync, readFileSync } from 'node:fs';

const [command, ...args] = process.argv.slice(2);
const pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
appendFileSync('/run/maas-standin.log', `${JSON.stringify({ command, sub: args[0] ?? '', pid1 })}\n`);
const standin = await import(`/app/dist/simulator/standins/${command}.js`);
process.exitCode = await standin.main(process.env.MAAS_SIM_URL, args);
