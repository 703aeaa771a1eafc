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

/** A fresh page with the cluster ready, its console input, and helpers to type a
 * line and to wait until the console output includes a text. */
async function openConsole() {
  const page = await env.browser.newPage();
  await page.goto(env.url);
  await page.waitForSelector('[data-testid="resource-pods"]', { timeout: 30000 });
  const input = page.locator('[data-testid="console-input"]');
  const type = async (line) => {
    await input.fill(line);
    await input.press("Enter");
  };
  const outputIncludes = (text) =>
    page.waitForFunction((t) => document.querySelector('[data-testid="console-output"]').textContent.includes(t), text);
  return { page, type, outputIncludes };
}

test("the console runs kubectl commands in the worker, here-documents included", async () => {
  const { page, type, outputIncludes } = await openConsole();
  await type("kubectl get ns");
  await outputIncludes("kube-system");
  for (const line of ["kubectl create -f - <<EOF", "apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: from-browser", "EOF"]) {
    await type(line);
  }
  await outputIncludes("configmap/from-browser created");
  await type("kubectl get cm from-browser -o name");
  await outputIncludes("configmap/from-browser\n");
  const text = await page.locator('[data-testid="console-output"]').textContent();
  assert.ok(text.startsWith("$ kubectl get ns\nNAME              STATUS   AGE\ndefault           Active   0s\n"), text);
  await page.close();
});

test("kubectl edit opens the editor pane; a refused save reopens it with the reasons", async () => {
  const { page, type, outputIncludes } = await openConsole();
  const editor = page.locator('[data-testid="editor"]');
  await type("kubectl create deployment web --image=nginx");
  await outputIncludes("deployment.apps/web created");
  await type("kubectl edit deployment web");
  await editor.waitFor({ timeout: 30000 });
  const opened = await editor.inputValue();
  assert.ok(opened.startsWith("# Please edit the object below."), opened);
  await editor.fill(opened.replace("replicas: 1\n", "replicas: -1\n"));
  await page.click('[data-testid="editor-save"]');
  await outputIncludes('error: deployments.apps "web" is invalid');
  await page.waitForFunction(() => document.querySelector('[data-testid="editor"]')?.value.includes("was not valid"));
  const reopened = await editor.inputValue();
  assert.ok(reopened.includes("# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"), reopened);
  await editor.fill(reopened.replace("replicas: -1\n", "replicas: 3\n"));
  await page.click('[data-testid="editor-save"]');
  await outputIncludes("deployment.apps/web edited");
  assert.equal(await page.locator('[data-testid="editor-pane"]').count(), 0);
  await type("kubectl get deployment web -o jsonpath={.spec.replicas}");
  await outputIncludes("jsonpath={.spec.replicas}\n3");
  // Cancel hands back the opened text unchanged.
  await type("kubectl edit deployment web");
  await editor.waitFor({ timeout: 30000 });
  await page.click('[data-testid="editor-cancel"]');
  await outputIncludes("Edit cancelled, no changes made.");
  await page.close();
});
