// One Delta Chat ping-pong, traced: both accounts' core log lines (Info events) with the time
// since "ping" was sent, to see where a round trip goes. Run by hand against a running relay,
// as bench/ping.sh runs ping.mjs (E2E_DIR and the relay's ports in the environment).
// usage: node bench/ping-trace.mjs ROUNDS
import { Device, join } from "../tests/e2e/lib/devices.mjs";

const rounds = Number(process.argv[2] ?? 3);
const [a, b] = [await Device.open("trace-a"), await Device.open("trace-b")];
const chats = await join(a, b);
let t0 = performance.now();
let tracing = false;
for (const [device, name] of [[a, "A"], [b, "B"]]) {
  device.client.dc.on("Info", (accountId, event) => {
    if (tracing) console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ms ${name} ${event.msg}`);
  });
}
b.client.dc.on("IncomingMsg", async (accountId, event) => {
  if (event.chatId !== chats.inviterChat) return;
  const message = await b.rpc.getMessage(accountId, event.msgId);
  if (tracing) console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ms B got "${message.text}", sends pong`);
  await b.rpc.miscSendTextMessage(accountId, chats.inviterChat, `pong ${message.text}`);
});
for (let k = 1; k <= rounds; k++) {
  const pong = new Promise((resolve) => {
    const listener = async (accountId, event) => {
      if (event.chatId !== chats.joinerChat) return;
      a.client.dc.off("IncomingMsg", listener);
      resolve();
    };
    a.client.dc.on("IncomingMsg", listener);
  });
  tracing = k === rounds;
  t0 = performance.now();
  await a.rpc.miscSendTextMessage(a.id, chats.joinerChat, `ping ${k}`);
  await pong;
  console.log(`round ${k}: ${(performance.now() - t0).toFixed(0)} ms`);
}
process.exit(0);
