// Ping-pong between real Delta Chat accounts on a running relay, in the spirit of cmping: the
// accounts pair up, each pair meets by Secure-Join, then each pinger sends "ping k" and waits
// for its partner's "pong k", ROUNDS times, all pairs at once. Measures every round trip, and the
// relay's CPU time and memory over the ping phase from /proc (the process trees below the
// relay's daemons, so the Delta Chat clients are not counted). Run by bench/ping.sh.
//
// usage: node bench/ping.mjs ACCOUNTS ROUNDS OUT_DIR RELAY_PID...
// env:   E2E_DIR and the relay's ports, as for tests/e2e/e2e.mjs; CLK_TCK; PING_HOSTS
// out:   OUT_DIR/rtt.txt (one round trip in ms per line), figures as "key value" lines on stdout
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { Device, join } from "../tests/e2e/lib/devices.mjs";

const ROUND_MS = 30000; // one round trip on loopback takes well under a second
// Delta Chat core sends at most one message a second after a burst of three (its own rate
// limiter, Ratelimit::new(3 s, 3.0) in core's context.rs): back-to-back rounds would measure
// that limiter (about 1 s a round), so rounds start at least this far apart.
const INTERVAL_MS = Number(process.env.PING_INTERVAL_MS ?? 1500);
const [accounts, rounds] = process.argv.slice(2, 4).map(Number);
const outDir = process.argv[4];
const relayRoots = process.argv.slice(5).map(Number);
const clockTicks = Number(process.env.CLK_TCK ?? 100);

// Every process below the given daemons (default: all of the relay's), with its
// /proc/PID/stat fields after the command.
function relayProcesses(roots = relayRoots) {
  const stats = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      stats.set(Number(name), stat.slice(stat.lastIndexOf(")") + 2).split(" "));
    } catch {
      // gone meanwhile
    }
  }
  const children = new Map();
  for (const [pid, fields] of stats) {
    const parent = Number(fields[1]);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(pid);
  }
  const found = new Map();
  const visit = (pid) => {
    if (!stats.has(pid) || found.has(pid)) return;
    found.set(pid, stats.get(pid));
    for (const child of children.get(pid) ?? []) visit(child);
  };
  roots.forEach(visit);
  return found;
}

// CPU seconds of each daemon's process tree so far, by the daemon's name: each live process's
// own time plus that of the children it has reaped (cutime, cstime), so processes that came
// and went are counted in their parents.
function relayCpuSeconds() {
  const seconds = {};
  for (const root of relayRoots) {
    let ticks = 0;
    for (const fields of relayProcesses([root]).values()) {
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    }
    const name = readFileSync(`/proc/${root}/comm`, "utf8").trim();
    seconds[name] = (seconds[name] ?? 0) + ticks / clockTicks;
  }
  return seconds;
}

// The relay's memory now: the sums of resident (RSS, shared pages counted in every process) and
// proportional (PSS, shared pages divided among their users) set sizes over its processes.
function relayMemory() {
  const memory = { rss: 0, pss: 0 };
  for (const pid of relayProcesses().keys()) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      memory.rss += Number(/^Rss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
      memory.pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return memory;
}

// The relay process with the largest peak RSS (VmHWM) so far: "name KiB".
function largestProcess() {
  let largest = { name: "", kib: 0 };
  for (const pid of relayProcesses().keys()) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      if (kib > largest.kib) largest = { name: /^Name:\s+(.*)$/m.exec(status)[1], kib };
    } catch {
      // gone meanwhile
    }
  }
  return largest;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// Answers every "ping k" from the partner with "pong k".
function answerPings(device, chatId) {
  device.client.dc.on("IncomingMsg", async (accountId, event) => {
    if (event.chatId !== chatId) return;
    const message = await device.rpc.getMessage(accountId, event.msgId);
    if (!message.showPadlock) device.unencrypted = (device.unencrypted ?? 0) + 1;
    const k = /^ping (\d+)$/.exec(message.text)?.[1];
    if (k) await device.rpc.miscSendTextMessage(accountId, chatId, `pong ${k}`);
  });
}

// Sends "ping k" and waits for "pong k", rounds times; returns the round trips in ms.
async function pingPong(device, chatId) {
  const waiting = new Map();
  device.client.dc.on("IncomingMsg", async (accountId, event) => {
    if (event.chatId !== chatId) return;
    const arrived = performance.now();
    const message = await device.rpc.getMessage(accountId, event.msgId);
    if (!message.showPadlock) device.unencrypted = (device.unencrypted ?? 0) + 1;
    const k = /^pong (\d+)$/.exec(message.text)?.[1];
    waiting.get(k)?.(arrived);
  });
  const rtts = [];
  for (let k = 1; k <= rounds; k++) {
    const pong = new Promise((resolve, reject) => {
      waiting.set(String(k), resolve);
      const late = () => reject(new Error(`${device.name}: no pong ${k} in ${ROUND_MS} ms`));
      setTimeout(late, ROUND_MS);
    });
    const sent = performance.now();
    await device.rpc.miscSendTextMessage(device.id, chatId, `ping ${k}`);
    rtts.push((await pong) - sent);
    const rest = INTERVAL_MS - (performance.now() - sent);
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  }
  return rtts;
}

const devices = [];
try {
  const pairs = Math.floor(accounts / 2);
  if (pairs < 1 || !(rounds >= 1)) throw new Error("need at least 2 accounts and 1 round");
  // PING_HOSTS "a.test b.test": across two relays, each pinger on the first, its partner on the second
  const hosts = process.env.PING_HOSTS?.split(" ");
  for (let i = 0; i < pairs * 2; i++) {
    if (hosts) process.env.E2E_HOST = hosts[i % 2];
    devices.push(await Device.open(`ping${i}`));
  }
  const pingers = [];
  for (let i = 0; i < pairs; i++) {
    const [pinger, ponger] = [devices[2 * i], devices[2 * i + 1]];
    const chats = await join(pinger, ponger);
    answerPings(ponger, chats.inviterChat);
    pingers.push([pinger, chats.joinerChat]);
  }

  const peak = relayMemory();
  const sampler = setInterval(() => {
    const now = relayMemory();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.pss = Math.max(peak.pss, now.pss);
  }, 100);
  const cpuBefore = relayCpuSeconds();
  const started = performance.now();
  const rtts = (await Promise.all(pingers.map(([d, chat]) => pingPong(d, chat)))).flat();
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = relayCpuSeconds();
  clearInterval(sampler);

  const cpuByDaemon = Object.entries(cpuAfter).map(([name, s]) => [name, s - (cpuBefore[name] ?? 0)]);
  const cpu = cpuByDaemon.reduce((sum, [, seconds]) => sum + seconds, 0);
  const largest = largestProcess();
  writeFileSync(joinPath(outDir, "rtt.txt"), rtts.map((ms) => ms.toFixed(1)).join("\n") + "\n");
  const sorted = [...rtts].sort((x, y) => x - y);
  const messages = rtts.length * 2;
  const figures = {
    pairs,
    rounds,
    messages,
    seconds: seconds.toFixed(1),
    p50: percentile(sorted, 50).toFixed(0),
    p90: percentile(sorted, 90).toFixed(0),
    p99: percentile(sorted, 99).toFixed(0),
    min: sorted[0].toFixed(0),
    max: sorted.at(-1).toFixed(0),
    per_second: (messages / seconds).toFixed(1),
    cpu: cpu.toFixed(2),
    cpu_per_message_ms: ((cpu / messages) * 1000).toFixed(1),
    peak_rss_mib: (peak.rss / 1048576).toFixed(1),
    peak_pss_mib: (peak.pss / 1048576).toFixed(1),
    cpu_by_daemon: cpuByDaemon.map(([name, s]) => `${name} ${s.toFixed(2)} s`).join(", "),
    largest: `${largest.name} ${(largest.kib / 1024).toFixed(1)}`,
    unencrypted: devices.reduce((n, d) => n + (d.unencrypted ?? 0), 0),
  };
  for (const [key, value] of Object.entries(figures)) console.log(`${key} ${value}`);
} catch (error) {
  console.error(`ping: ${error.message ?? error}`);
  process.exitCode = 1;
}
for (const d of devices) await d.stop().catch(() => {});
process.exit();
