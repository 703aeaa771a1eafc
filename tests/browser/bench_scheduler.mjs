// The scheduler throughput workloads in the browser: the app's own worker
// (worker_loader.js, as the page starts it) runs each workload on a cluster of its
// own and times it with the worker's performance.now(). Prints medians of RUNS
// runs, as the native `cargo bench -p kubecraft-cluster --bench scheduler` does.
// Run with `npm run bench:browser` after `trunk build --release`.
import { start } from "./serve.mjs";

const RUNS = 3;
const WORKLOADS = [
  { name: "basic", pods: 10000, goal: 5000 },
  { name: "anti-affinity", pods: 1000, goal: 500 },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const env = await start();
try {
  const page = await env.browser.newPage();
  await page.goto(env.url);
  console.log(`kubecraft scheduler benchmark (browser worker, headless Chromium, ${RUNS} runs each, medians)`);
  for (const workload of WORKLOADS) {
    const rates = [];
    for (let seed = 0; seed < RUNS; seed++) {
      const result = await page.evaluate(
        ({ name, seed }) =>
          new Promise((resolve, reject) => {
            const worker = new Worker("./worker_loader.js");
            worker.onmessage = (event) => {
              const reply = JSON.parse(event.data);
              if (reply.type === "Ready") {
                worker.postMessage(JSON.stringify({ type: "Bench", id: 1, workload: name, seed }));
              } else if (reply.type === "Bench") {
                worker.terminate();
                resolve(reply.result);
              } else {
                reject(new Error(event.data));
              }
            };
          }),
        { name: workload.name, seed },
      );
      if (result.Err !== undefined) throw new Error(result.Err);
      rates.push(result.Ok);
    }
    const label = `${workload.pods} ${workload.name}`.padEnd(20);
    console.log(`5000 nodes, ${label} pods: ${median(rates).toFixed(0).padStart(7)} pods/s   (goal >= ${workload.goal}; runs: ${rates.map((r) => r.toFixed(0)).join(", ")})`);
  }
  await page.close();
} finally {
  await env.close();
}
