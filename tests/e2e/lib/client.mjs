// One Delta Chat device for the tests: a deltachat-rpc-server process over its own accounts
// directory, driven through @deltachat/jsonrpc-client, with every event kept for waiting on.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { StdioDeltaChat } from "@deltachat/jsonrpc-client";
import { getRPCServerPath } from "@deltachat/stdio-rpc-server";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// until(fn, ms, what): calls fn every 100 ms until it returns something truthy, which it
// returns; fails after ms with what was waited for.
export async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

export class Client {
  // dir: the accounts directory (made if missing); name: for logs and messages.
  constructor(dir, name) {
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.name = name;
    this.log = join(dir, "events.log");
    this.events = [];
    this.waiters = [];
    const stderr = openSync(join(dir, "stderr.log"), "a");
    this.server = spawn(getRPCServerPath(), [], {
      env: { DC_ACCOUNTS_PATH: join(dir, "accounts"), RUST_LOG: process.env.RUST_LOG ?? "" },
      stdio: ["pipe", "pipe", stderr],
    });
    this.exited = new Promise((resolve) => this.server.on("exit", resolve));
    // the client's event loop keeps asking for events until the process is gone
    this.server.stdin.on("error", () => {});
    this.dc = new StdioDeltaChat(this.server.stdin, this.server.stdout, true);
    this.rpc = this.dc.rpc;
    this.dc.on("ALL", (accountId, event) => this.record(accountId, event));
  }

  record(accountId, event) {
    const entry = { at: Date.now(), accountId, ...event };
    this.events.push(entry);
    const text = event.msg ? `: ${event.msg}` : ` ${JSON.stringify(event)}`;
    const line = `${new Date(entry.at).toISOString()} ${accountId} ${event.kind}${text}\n`;
    appendFileSync(this.log, line);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(entry)) waiter.resolve(entry);
    }
  }

  // mark(): a position in the event history; waitEvent(pred, ms, what, from) looks at events
  // from there on, so an event that came between an action and the wait is not missed.
  mark() {
    return this.events.length;
  }

  waitEvent(match, ms, what, from = this.events.length) {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (entry) => {
          clearTimeout(timer);
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(entry);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  // The account of this device: the one there is, or a new one.
  async account() {
    const ids = await this.rpc.getAllAccountIds();
    return ids.length ? ids[0] : this.rpc.addAccount();
  }

  async stop() {
    try {
      await this.rpc.stopIoForAllAccounts();
    } catch {
      // the server may be gone already
    }
    this.server.stdin.end();
    const timer = setTimeout(() => this.server.kill("SIGKILL"), 5000);
    this.server.kill("SIGTERM");
    await this.exited;
    clearTimeout(timer);
  }
}
