// Loads the engine's wasm inside the Web Worker (Trunk emits worker.js + worker_bg.wasm).
importScripts("./worker.js");
wasm_bindgen({ module_or_path: "./worker_bg.wasm" });
