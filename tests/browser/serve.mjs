// Serves dist/ on a free 127.0.0.1 port and launches headless Chromium, for browser tests.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitForServer(url, tries = 100) {
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not start`);
}

/** Starts the static server and the browser; call `close()` when done. */
export async function start(distDir = "dist") {
  const port = await freePort();
  // /usr/bin/python3 directly: `python3` on PATH may be a shim whose PID is not the server's.
  const server = spawn("/usr/bin/python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", distDir], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}/`;
  await waitForServer(url);
  const userDataDir = mkdtempSync(join(tmpdir(), "kubecraft-chromium-"));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_FLAGS,
    headless: true,
  });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      server.kill();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
