// The test's Delta Chat devices, kept below E2E_DIR/<name>/ between runs of the driver: each is
// one deltachat-rpc-server with one account, made from the relay's QR code on first use.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { request } from "node:https";
import { join as joinPath } from "node:path";
import { Client, until } from "./client.mjs";

const JOIN_MS = 60000;

// Message states (DC_STATE_* of the core) that the tests look for.
export const STATE = { OUT_FAILED: 24, OUT_DELIVERED: 26 };

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the driver needs the relay's ports`);
  return value;
}

// The relay's host: E2E_HOST (a name of the federation test bed), else the local relay.
const host = () => process.env.E2E_HOST ?? "127.0.0.1";

// POST /new on the relay, as Delta Chat does for a dcaccount: QR code: {email, password, ...}.
export function postNew() {
  const ca = process.env.E2E_CA; // the federation's test CA signed its relays' certificates
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: host(),
        port: env("HTTPS_PORT"),
        path: "/new",
        method: "POST",
        ...(ca ? { ca: readFileSync(ca) } : { rejectUnauthorized: false }), // else self-signed
        timeout: 20000,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`POST /new: ${res.statusCode} ${body}`));
          else resolve(JSON.parse(body));
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("POST /new timed out")));
    req.on("error", reject);
    req.end();
  });
}

// The relay's dclogin: URL plus what a relay on test ports needs: its IMAPS and SMTPS ports.
// A relay with a domain gives none (phones take its dcaccount: code), so the device makes it
// as for the relay's own hosts; ic=3 and sc=3 because Delta Chat trusts only the public roots
// built into it, never a test CA.
export function loginQr(answer) {
  if (!answer.dclogin_url && !isIP(host())) {
    const login = `${encodeURIComponent(answer.email).replace("%40", "@")}`;
    const hosts = `ih=${host()}&ip=993&is=ssl&sh=${host()}&sp=465&ss=ssl`;
    return `dclogin:${login}?p=${encodeURIComponent(answer.password)}&v=1&${hosts}&ic=3&sc=3`;
  }
  if (!answer.dclogin_url) {
    throw new Error(`POST /new gave no dclogin_url: ${JSON.stringify(answer)}`);
  }
  const ports = `&ip=${env("IMAPS_PORT")}&is=ssl&sp=${env("SMTPS_PORT")}&ss=ssl`;
  return process.env.IMAPS_PORT === "993" ? answer.dclogin_url : answer.dclogin_url + ports;
}

export class Device {
  constructor(name) {
    this.name = name;
    this.dir = joinPath(env("E2E_DIR"), name);
    this.client = new Client(this.dir, name);
    this.rpc = this.client.rpc;
  }

  // Starts the device; a device never configured before gets a new account on the relay.
  static async open(name) {
    const device = new Device(name);
    device.id = await device.client.account();
    if (!(await device.rpc.isConfigured(device.id))) {
      const answer = await postNew();
      await device.configure(loginQr(answer));
      writeFileSync(joinPath(device.dir, "account.json"), JSON.stringify(answer));
    }
    device.addr = await device.rpc.getConfig(device.id, "configured_addr");
    await device.rpc.startIo(device.id);
    return device;
  }

  static known(name) {
    return existsSync(joinPath(env("E2E_DIR"), name, "account.json"));
  }

  async configure(qr) {
    const qrKind = (await this.rpc.checkQr(this.id, qr)).kind;
    await this.rpc.setConfig(this.id, "displayname", this.name);
    await this.rpc.addTransportFromQr(this.id, qr);
    return qrKind;
  }

  mark() {
    return this.client.mark();
  }

  waitEvent(match, ms, what, from) {
    return this.client.waitEvent(match, ms, `${this.name}: ${what}`, from);
  }

  // The contact id this device has for another device, as Secure-Join gave it. (Looking a
  // contact up by address may find the address-contact of an unencrypted message instead.)
  contactOf(otherName) {
    return this.contacts()[otherName] ?? null;
  }

  remember(otherName, contactId) {
    const contacts = { ...this.contacts(), [otherName]: contactId };
    writeFileSync(joinPath(this.dir, "contacts.json"), JSON.stringify(contacts));
  }

  contacts() {
    const path = joinPath(this.dir, "contacts.json");
    return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : {};
  }

  // Waits until an incoming message (an IncomingMsg event from event position `from` on) matches;
  // returns that message.
  async waitIncoming(match, ms, what, from = 0) {
    const deadline = Date.now() + ms;
    let index = from;
    for (;;) {
      for (; index < this.client.events.length; index++) {
        const event = this.client.events[index];
        if (event.kind !== "IncomingMsg" || event.accountId !== this.id) continue;
        const message = await this.rpc.getMessage(this.id, event.msgId);
        if (match(message)) return message;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out after ${ms} ms waiting for ${what}`);
      await this.client
        .waitEvent((e) => e.kind === "IncomingMsg", left, what, index)
        .catch(() => {});
    }
  }

  async waitDelivered(msgId, ms) {
    return until(
      async () => {
        const message = await this.rpc.getMessage(this.id, msgId);
        if (message.state === STATE.OUT_FAILED) {
          throw new Error(`${this.name}: message ${msgId} failed: ${message.error}`);
        }
        return message.state >= STATE.OUT_DELIVERED && message;
      },
      ms,
      `${this.name}: message ${msgId} delivered`,
    );
  }

  async stop() {
    await this.client.stop();
  }
}

export async function verified(a, b) {
  const id = a.contactOf(b.name);
  return id !== null && (await a.rpc.getContact(a.id, id)).isVerified;
}

// join(joiner, inviter, classic): the joiner scans the inviter's QR code; both must end up with a
// verified contact and an encrypted chat. Returns both chats and the protocol steps the joiner
// sent. With classic the joiner takes the QR code without its v=3.
export async function join(joiner, inviter, classic = false) {
  let qr = await inviter.rpc.getChatSecurejoinQrCode(inviter.id, null);
  if (classic) {
    if (!qr.includes("&v=3")) throw new Error(`the invite QR code has no v=3: ${qr}`);
    qr = qr.replace("&v=3", "");
  }
  const scanned = await joiner.rpc.checkQr(joiner.id, qr);
  if (scanned.kind !== "askVerifyContact") {
    throw new Error(`the invite QR code reads as ${scanned.kind}`);
  }
  const joinerMark = joiner.mark();
  const inviterMark = inviter.mark();
  const joinerChat = await joiner.rpc.secureJoin(joiner.id, qr);
  const joined = await joiner.waitEvent(
    (e) => e.kind === "SecurejoinJoinerProgress" && e.progress === 1000,
    JOIN_MS,
    "Secure-Join to finish",
    joinerMark,
  );
  const invited = await inviter.waitEvent(
    (e) => e.kind === "SecurejoinInviterProgress" && e.progress === 1000,
    JOIN_MS,
    "Secure-Join to finish",
    inviterMark,
  );
  joiner.remember(inviter.name, joined.contactId);
  inviter.remember(joiner.name, invited.contactId);
  // what the joiner's core logged sending: the protocol steps, e.g. vc-request-pubkey (v3)
  const steps = joiner.client.events
    .slice(joinerMark)
    .map((e) => /Sending secure-join message "([a-z-]+)"/.exec(e.msg ?? "")?.[1])
    .filter(Boolean);
  return { joinerChat, inviterChat: invited.chatId, steps };
}
