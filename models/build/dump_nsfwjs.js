// Build-time helper: unpack nsfwjs 4.4.0's MobileNetV2 (tfjs layers model shipped
// as base64 JS modules) into model.json + weights.bin for build_nsfw_model.py.
//   cd SCRATCH && npm pack nsfwjs@4.4.0 && tar xzf nsfwjs-4.4.0.tgz
//   node models/build/dump_nsfwjs.js SCRATCH/package OUTDIR
const fs = require("fs");
const path = require("path");
const [pkg, out] = process.argv.slice(2);
if (!pkg || !out) { console.error("usage: dump_nsfwjs.js NSFWJS_PACKAGE_DIR OUTDIR"); process.exit(2); }
const dir = path.resolve(pkg, "dist/models/mobilenet_v2");
const unwrap = (m) => (m && m.default !== undefined ? m.default : m);
const topology = unwrap(require(path.join(dir, "model.min.js")));
const shard = unwrap(require(path.join(dir, "group1-shard1of1.min.js")));
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "model.json"), typeof topology === "string" ? topology : JSON.stringify(topology));
fs.writeFileSync(path.join(out, "weights.bin"), Buffer.from(shard, "base64"));
console.log("wrote", path.join(out, "model.json"), path.join(out, "weights.bin"));
