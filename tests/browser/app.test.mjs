// The app in real headless Chromium: the worker starts the engine, and the page
// shows the cluster's discovery document read through the API.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { start } from "./serve.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.close();
});

test("the worker answers and the page lists the served resources", async () => {
  const page = await env.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(env.url);
  await page.waitForSelector('[data-testid="resource-pods"]', { timeout: 30000 });
  assert.equal(await page.textContent('[data-testid="status"]'), "Cluster ready");
  const pods = await page.$$eval('[data-testid="resource-pods"] td', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(pods, ["pods", "po", "v1", "true", "Pod", "create,delete,deletecollection,get,list,patch,update,watch"]);
  await page.waitForSelector('[data-testid="resource-deployments.apps"]', { timeout: 30000 });
  const deploy = await page.$$eval('[data-testid="resource-deployments.apps"] td', (cells) => cells.map((c) => c.textContent));
  assert.equal(deploy[2], "apps/v1");
  await page.waitForSelector('[data-testid="resource-pods.metrics.k8s.io"]', { timeout: 30000 });
  const podMetrics = await page.$$eval('[data-testid="resource-pods.metrics.k8s.io"] td', (cells) => cells.map((c) => c.textContent));
  assert.equal(podMetrics[4], "PodMetrics");
  await page.waitForFunction(() => document.querySelector('[data-testid="version"]').textContent !== "");
  assert.equal(await page.textContent('[data-testid="version"]'), "Server Version: v1.35.0");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the console runs kubectl commands in the worker, here-documents included", async () => {
  const page = await env.browser.newPage();
  await page.goto(env.url);
  await page.waitForSelector('[data-testid="resource-pods"]', { timeout: 30000 });
  const input = page.locator('[data-testid="console-input"]');
  const output = page.locator('[data-testid="console-output"]');
  await input.fill("kubectl get ns");
  await input.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="console-output"]').textContent.includes("kube-system"));
  for (const line of ["kubectl create -f - <<EOF", "apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: from-browser", "EOF"]) {
    await input.fill(line);
    await input.press("Enter");
  }
  await page.waitForFunction(() => document.querySelector('[data-testid="console-output"]').textContent.includes("configmap/from-browser created"));
  await input.fill("kubectl get cm from-browser -o name");
  await input.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="console-output"]').textContent.includes("configmap/from-browser\n"));
  const text = await output.textContent();
  assert.ok(text.startsWith("$ kubectl get ns\nNAME              STATUS   AGE\ndefault           Active   0s\n"), text);
  await page.close();
});
