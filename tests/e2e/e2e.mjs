// The Delta Chat end-to-end scenarios against a running relay, one per command; run by
// tests/bats/deltachat.bats. Devices live below E2E_DIR and persist between commands, so one
// command can run while another device is switched off. Prints "ok: ..." lines of what it saw
// and exits 1 with "e2e: ..." when something did not happen.
//
// usage: node e2e.mjs account NAME [QR]       a new device configured from the relay's QR code
//        node e2e.mjs scan NAME QR             what Delta Chat makes of a QR code
//        node e2e.mjs join JOINER INVITER [classic]  Secure-Join with the inviter's QR code
//        node e2e.mjs meet A B                 A joins B unless they have met
//        node e2e.mjs exchange A B             text and a 1 MiB file A->B, a reply B->A
//        node e2e.mjs group A B C              a group of three made by QR, everyone writes
//        node e2e.mjs unencrypted A ADDR [plain]  a message to an address without a key
//        node e2e.mjs send-burst A B N         A sends N messages to B (B switched off)
//        node e2e.mjs receive-burst B A        B comes back and must get them all
//        node e2e.mjs ice NAME                 the ICE servers core uses for calls
//        node e2e.mjs idle A B SECONDS         both online and idle that long, then A's text to B
// env:   E2E_DIR, and the relay's HTTPS_PORT, IMAPS_PORT, SMTPS_PORT; E2E_HOST, the relay's name for
//        a new device (default 127.0.0.1), and E2E_CA, the CA that signed its certificate
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { until } from "./lib/client.mjs";
import { Device, STATE, join, loginQr, postNew, verified } from "./lib/devices.mjs";

const MESSAGE_MS = 60000; // a message between two devices on loopback takes well under a second
const JOIN_MS = 60000;
const COMMAND_MS = 240000; // no command may hang a test run

const open = [];
function ok(line) {
  console.log(`ok: ${line}`);
}
function check(condition, what) {
  if (!condition) throw new Error(what);
}

async function device(name) {
  const d = await Device.open(name);
  open.push(d);
  return d;
}

const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const token = () => randomBytes(4).toString("hex");

// account NAME [QR]: a device that never ran gets a new account from the relay's QR code (the
// dclogin: URL of POST /new by default) and nothing else: no server, port or TLS setting by hand.
async function account(name, qr) {
  check(!Device.known(name), `device ${name} exists already`);
  const d = new Device(name);
  open.push(d);
  d.id = await d.client.account();
  let answer = null;
  if (!qr) {
    answer = await postNew();
    qr = loginQr(answer);
  }
  const kind = await d.configure(qr);
  check(await d.rpc.isConfigured(d.id), "the account is not configured");
  const addr = await d.rpc.getConfig(d.id, "configured_addr");
  if (answer) check(addr === answer.email, `configured ${addr}, the relay made ${answer.email}`);
  writeFileSync(joinPath(d.dir, "account.json"), JSON.stringify(answer ?? { email: addr }));
  const mark = d.mark();
  await d.rpc.startIo(d.id);
  await d.waitEvent((e) => e.kind === "ImapInboxIdle", MESSAGE_MS, "IDLE in INBOX", mark);
  ok(`${name} configured ${addr} from a ${kind} QR code`);
  ok(`${name} is_chatmail=${await d.rpc.getConfig(d.id, "is_chatmail")}`);
  const info = await d.rpc.getInfo(d.id);
  ok(`${name} uses ${info.used_transport_settings}`);
}

// scan NAME QR: what the device's Delta Chat makes of a QR code's text.
async function scan(name, qr) {
  const d = await device(name);
  const result = await d.rpc.checkQr(d.id, qr);
  ok(`${name} reads it as ${result.kind}${result.domain ? ` for ${result.domain}` : ""}`);
}

// With "classic" the joiner takes the QR code without its v=3: it then speaks the Secure-Join
// protocol of Delta Chat before 2.x, whose first message, vc-request, goes unencrypted.
async function joinCommand(joinerName, inviterName, mode) {
  const joiner = await device(joinerName);
  const inviter = await device(inviterName);
  const chats = await join(joiner, inviter, mode === "classic");
  for (const [d, other] of [[joiner, inviter], [inviter, joiner]]) {
    check(await verified(d, other), `${d.name} does not see ${other.name} as verified`);
  }
  ok(`${joiner.name} sent ${chats.steps.join(", ")}`);
  ok(`${joiner.name} and ${inviter.name} see each other as verified`);
  const joinerChat = await joiner.rpc.getFullChatById(joiner.id, chats.joinerChat);
  const inviterChat = await inviter.rpc.getFullChatById(inviter.id, chats.inviterChat);
  check(joinerChat.contactIds.includes(joiner.contactOf(inviter.name)), "joiner's chat: not 1:1");
  check(inviterChat.contactIds.includes(inviter.contactOf(joiner.name)), "inviter's chat: not 1:1");
  check(joinerChat.isEncrypted && inviterChat.isEncrypted, "a chat is not encrypted");
  check(joinerChat.canSend && inviterChat.canSend, "a chat cannot send");
  ok(
    `both chats are encrypted (${joiner.name}: "${joinerChat.name}", ` +
      `${inviter.name}: "${inviterChat.name}")`,
  );
}

// meet A B: A joins B's QR code unless they have met already.
async function meet(nameA, nameB) {
  const a = await device(nameA);
  const b = await device(nameB);
  if (await verified(a, b)) ok(`${a.name} and ${b.name} have met already`);
  else ok(`${a.name} joined ${b.name}: chat ${(await join(a, b)).joinerChat}`);
}

// The encrypted 1:1 chat of a with b, joining first when they have not met.
async function chatWith(a, b) {
  if (!(await verified(a, b))) await join(a, b);
  const contact = a.contactOf(b.name);
  const chat = await a.rpc.getChatIdByContactId(a.id, contact);
  return chat ?? a.rpc.createChatByContactId(a.id, contact);
}

async function exchange(nameA, nameB) {
  const a = await device(nameA);
  const b = await device(nameB);
  const chat = await chatWith(a, b);
  const text = `hello ${b.name}, ${token()}`;
  const file = joinPath(a.dir, "one-mebibyte.bin");
  writeFileSync(file, randomBytes(1024 * 1024)); // random: no compression can shrink it
  const mark = b.mark();
  const textId = await a.rpc.miscSendTextMessage(a.id, chat, text);
  const fileId = await a.rpc.sendMsg(a.id, chat, {
    text: "a file",
    file,
    filename: "one-mebibyte.bin",
    viewtype: "File",
  });
  await a.waitDelivered(textId, MESSAGE_MS);
  await a.waitDelivered(fileId, MESSAGE_MS);
  const gotText = await b.waitIncoming((m) => m.text === text, MESSAGE_MS, "the text", mark);
  const isFile = (m) => m.fileName === "one-mebibyte.bin";
  const announced = await b.waitIncoming(isFile, MESSAGE_MS, "the file", mark);
  // A large message comes as a small pre-message first; the file follows in the post-message.
  const gotFile = await until(
    async () => {
      const m = await b.rpc.getMessage(b.id, announced.id);
      return m.downloadState === "Done" && m.file && m;
    },
    MESSAGE_MS,
    "the file to be downloaded",
  );
  check(gotText.showPadlock, "the text is not shown as encrypted");
  check(gotFile.showPadlock, "the file is not shown as encrypted");
  check(gotFile.fileBytes === 1024 * 1024, `the file has ${gotFile.fileBytes} bytes`);
  check(sha256(gotFile.file) === sha256(file), "the file's bytes differ");
  ok(`${b.name} got the text and the 1 MiB file, both with a padlock, the file byte for byte`);
  const reply = `hello ${a.name}, ${token()}`;
  const aMark = a.mark();
  await b.rpc.miscSendTextMessage(b.id, gotText.chatId, reply);
  const gotReply = await a.waitIncoming((m) => m.text === reply, MESSAGE_MS, "the reply", aMark);
  check(gotReply.showPadlock, "the reply is not shown as encrypted");
  check(gotReply.chatId === chat, "the reply came in another chat");
  ok(`${a.name} got ${b.name}'s reply with a padlock in the same chat`);
}

// idle A B SECONDS: both devices online, saying so once they are, and idle for SECONDS (past
// the relay's IMAP hibernation timeout: tests/bats/deltachat.bats watches the relay meanwhile);
// then A's text must reach B.
async function idle(nameA, nameB, seconds) {
  const a = await device(nameA);
  const b = await device(nameB);
  const chat = await chatWith(a, b);
  ok(`${a.name} and ${b.name} are online, idle for ${seconds} s`);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const text = `still there, ${b.name}? ${token()}`;
  const mark = b.mark();
  const sent = Date.now();
  await a.rpc.miscSendTextMessage(a.id, chat, text);
  await b.waitIncoming((m) => m.text === text, MESSAGE_MS, "the text after idling", mark);
  ok(`${b.name} got ${a.name}'s text ${Date.now() - sent} ms after it was sent`);
}

async function group(nameA, nameB, nameC) {
  const [a, b, c] = [await device(nameA), await device(nameB), await device(nameC)];
  const name = `trio ${token()}`;
  const groupId = await a.rpc.createGroupChat(a.id, name, false);
  const qr = await a.rpc.getChatSecurejoinQrCode(a.id, groupId);
  const scanned = await b.rpc.checkQr(b.id, qr);
  check(scanned.kind === "askVerifyGroup", `the group QR code reads as ${scanned.kind}`);
  for (const joiner of [b, c]) {
    const mark = joiner.mark();
    await joiner.rpc.secureJoin(joiner.id, qr);
    await joiner.waitEvent(
      (e) => e.kind === "SecurejoinJoinerProgress" && e.progress === 1000,
      JOIN_MS,
      "joining the group",
      mark,
    );
  }
  const members = await a.rpc.getChatContacts(a.id, groupId);
  check(members.length === 3, `the group has ${members.length} members`);
  ok(`${b.name} and ${c.name} joined "${name}" by its QR code`);
  for (const [sender, others] of [[a, [b, c]], [b, [a, c]], [c, [a, b]]]) {
    const text = `${sender.name} to the group, ${token()}`;
    const marks = others.map((o) => o.mark());
    const chat = sender === a ? groupId : await groupChatOf(sender, name);
    await sender.rpc.miscSendTextMessage(sender.id, chat, text);
    for (const [i, other] of others.entries()) {
      const is = (m) => m.text === text;
      const got = await other.waitIncoming(is, MESSAGE_MS, `"${text}"`, marks[i]);
      const full = await other.rpc.getFullChatById(other.id, got.chatId);
      check(full.name === name && full.chatType === "Group", `${other.name}: in "${full.name}"`);
      check(full.contactIds.length === 3, `${other.name} sees ${full.contactIds.length} members`);
      check(got.showPadlock, `${other.name} does not show it as encrypted`);
    }
    const names = others.map((o) => o.name).join(" and ");
    ok(`${sender.name}'s message reached ${names} in the group, encrypted`);
  }
}

async function groupChatOf(d, name) {
  return until(
    async () => {
      const ids = await d.rpc.getChatlistEntries(d.id, null, name, null);
      return ids[0];
    },
    MESSAGE_MS,
    `${d.name}: the group "${name}"`,
  );
}

// unencrypted A ADDR [plain]: a message to an address without a key. Delta Chat on a chatmail
// relay refuses to send it in plain text by itself; with "plain" A's client is set to send it
// anyway (force_encryption=0, as a client that does not know chatmail would), so the relay's
// answer decides. Either way A must see the message as failed; prints the error A shows.
async function unencrypted(nameA, addr, mode) {
  const a = await device(nameA);
  if (mode === "plain") await a.rpc.setConfig(a.id, "force_encryption", "0");
  try {
    await sendUnencrypted(a, addr);
  } finally {
    await a.rpc.setConfig(a.id, "force_encryption", null);
  }
}

async function sendUnencrypted(a, addr) {
  const contact = await a.rpc.createContact(a.id, addr, null);
  const chat = await a.rpc.createChatByContactId(a.id, contact);
  const full = await a.rpc.getFullChatById(a.id, chat);
  ok(`${a.name}'s chat with ${addr}: encrypted=${full.isEncrypted} canSend=${full.canSend}`);
  const mark = a.mark();
  let id = null;
  try {
    id = await a.rpc.miscSendTextMessage(a.id, chat, `plain text to ${addr}`);
  } catch (error) {
    ok(`${a.name}'s client refused to send: ${error.message}`);
  }
  const failed = await a.waitEvent(
    (e) => e.kind === "MsgFailed" && (id === null ? e.chatId === chat : e.msgId === id),
    MESSAGE_MS,
    "the message to fail",
    mark,
  );
  const message = await a.rpc.getMessage(a.id, failed.msgId);
  check(message.state === STATE.OUT_FAILED, `the message is in state ${message.state}`);
  ok(`${a.name} shows the message as failed: ${message.error}`);
}

// The texts of a burst, kept for the receiving side: unique per run, numbered in sending order.
const burstFile = (from, to) => joinPath(process.env.E2E_DIR, `burst-${from}-to-${to}.json`);

async function sendBurst(nameA, nameB, count) {
  const a = await device(nameA);
  const contact = a.contactOf(nameB);
  const met = contact !== null && (await a.rpc.getContact(a.id, contact)).isVerified;
  check(met, `${nameA} has not met ${nameB}`);
  const chat = await a.rpc.getChatIdByContactId(a.id, contact);
  const run = token();
  const texts = Array.from({ length: count }, (_, i) => `burst ${run}: ${i + 1} of ${count}`);
  writeFileSync(burstFile(nameA, nameB), JSON.stringify(texts));
  const ids = [];
  for (const text of texts) ids.push(await a.rpc.miscSendTextMessage(a.id, chat, text));
  const started = Date.now();
  for (const id of ids) await a.waitDelivered(id, MESSAGE_MS * 3);
  const ms = Date.now() - started;
  ok(`${a.name} sent ${count} messages to ${nameB}, all delivered after ${ms} ms`);
}

async function receiveBurst(nameB, nameA) {
  const b = await device(nameB);
  const want = JSON.parse(readFileSync(burstFile(nameA, nameB), "utf8"));
  const run = want[0].slice(0, want[0].indexOf(":") + 1);
  const chat = await b.rpc.getChatIdByContactId(b.id, b.contactOf(nameA));
  const burst = async () => {
    const ids = await b.rpc.getMessageIds(b.id, chat, false, false);
    const messages = Object.values(await b.rpc.getMessages(b.id, ids));
    return messages.filter((m) => m.kind === "message" && m.text.startsWith(run));
  };
  const all = async () => (await burst()).length >= want.length;
  await until(all, MESSAGE_MS * 3, `${want.length} messages`);
  // whatever comes twice would come with the same fetch or the next one: look again later
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const messages = await burst();
  const got = messages.map((m) => m.text);
  const shown = messages
    .map((m) => `${m.text.slice(run.length + 1)} (sent ${m.timestamp}, sorted ${m.sortTimestamp})`)
    .join(", ");
  check(got.length === want.length, `${got.length} messages, not ${want.length}: ${shown}`);
  check(new Set(got).size === got.length, `some came twice: ${shown}`);
  check(JSON.stringify(got) === JSON.stringify(want), `not in the order sent: ${shown}`);
  ok(`${b.name} got all ${want.length} messages, in order, none twice`);
}

// ice NAME: the ICE servers core makes for calls of the relay's METADATA turn (TURN REST
// credentials), as JSON on one "ok:" line.
async function ice(name) {
  const d = await device(name);
  // core reads the relay's METADATA when it connects
  const mark = d.mark();
  await d.rpc.startIo(d.id);
  await d.waitEvent((e) => e.kind === "ImapInboxIdle", MESSAGE_MS, "IDLE in INBOX", mark);
  ok(`${name} ICE servers: ${await d.rpc.iceServers(d.id)}`);
}

const commands = {
  account: (name, qr) => account(name, qr),
  scan: (name, qr) => scan(name, qr),
  join: (j, i, mode) => joinCommand(j, i, mode),
  meet: (a, b) => meet(a, b),
  exchange: (a, b) => exchange(a, b),
  group: (a, b, c) => group(a, b, c),
  unencrypted: (a, addr, mode) => unencrypted(a, addr, mode),
  "send-burst": (a, b, n) => sendBurst(a, b, Number(n)),
  "receive-burst": (b, a) => receiveBurst(b, a),
  ice: (name) => ice(name),
  idle: (a, b, seconds) => idle(a, b, Number(seconds)),
};

const [command, ...args] = process.argv.slice(2);
let status = 0;
const watchdog = setTimeout(() => {
  console.error(`e2e: ${command} did not finish in ${COMMAND_MS} ms`);
  for (const d of open) d.client.server.kill("SIGKILL");
  process.exit(1);
}, COMMAND_MS);
try {
  if (!commands[command]) throw new Error(`unknown command ${command}`);
  await commands[command](...args);
} catch (error) {
  console.error(`e2e: ${command}: ${error.message ?? error}`);
  for (const d of open) console.error(`e2e: ${d.name}'s events: ${d.client.log}`);
  status = 1;
}
for (const d of open) await d.stop().catch(() => {});
clearTimeout(watchdog);
process.exit(status);
