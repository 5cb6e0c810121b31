// The relay's web page in a real headless browser (Debian's chromium, driven by playwright-core),
// as a phone would open it; run by tests/bats/alpn.bats. Prints "ok: ..." lines of what it saw
// and exits 1 with "page: ..." when something did not happen.
//
// usage: node page.mjs view URL DIR          loads the page and looks at it, touching nothing
//        node page.mjs signup URL DIR PNG    taps the signup button; PNG: a screenshot of the
//                                            QR code shown; prints the link shown beside it
// DIR: the browser's profile directory (fresh for each run). The relay's certificate is
// self-signed: the browser is told to accept it, as a user taps through the warning.
import { chromium } from "playwright-core";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const STEP_MS = 20000;

function ok(line) {
  console.log(`ok: ${line}`);
}

async function open(url, dir) {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    ignoreHTTPSErrors: true,
    viewport: { width: 412, height: 915 }, // a phone's screen
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const response = await page.goto(url, { waitUntil: "load", timeout: STEP_MS });
  if (!response.ok()) throw new Error(`GET ${url}: ${response.status()}`);
  return { context, page, errors };
}

async function view(url, dir) {
  const { context, page, errors } = await open(url, dir);
  const button = page.locator("#signup");
  await button.waitFor({ state: "visible", timeout: STEP_MS });
  ok(`the page shows the button "${(await button.textContent()).trim()}"`);
  if (await page.locator(".dcaccount").isVisible()) throw new Error("the dcaccount: QR code shows");
  ok("the page shows no dcaccount: QR code");
  if (errors.length) throw new Error(`script errors: ${errors.join("; ")}`);
  await context.close();
}

async function signup(url, dir, png) {
  const { context, page, errors } = await open(url, dir);
  await page.locator("#signup").click({ timeout: STEP_MS });
  const qr = page.locator("#signup-qr");
  await qr.waitFor({ state: "visible", timeout: STEP_MS });
  await page.waitForFunction(() => document.getElementById("signup-qr").complete, null, {
    timeout: STEP_MS,
  });
  await qr.screenshot({ path: png });
  ok(`the page shows a QR code (${png})`);
  const link = await page.locator("#signup-link").getAttribute("href");
  ok(`the page links ${link}`);
  if (errors.length) throw new Error(`script errors: ${errors.join("; ")}`);
  await context.close();
}

const [command, ...args] = process.argv.slice(2);
const commands = { view, signup };
try {
  if (!commands[command]) throw new Error(`unknown command ${command}`);
  await commands[command](...args);
} catch (e) {
  console.log(`page: ${e.message}`);
  process.exit(1);
}
