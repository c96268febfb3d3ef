// Build-time parity check: run the original nsfwjs MobileNetV2 on @tensorflow/tfjs
// (pure-JS CPU backend) over float32 NHWC images written by verify_nsfw_tfjs.py.
//   node verify_nsfw_tfjs.js DUMP_DIR INPUT.bin N OUTPUT.json   (run from a dir with @tensorflow/tfjs installed)
const fs = require("fs");
const path = require("path");
const tf = require(require.resolve("@tensorflow/tfjs", { paths: [process.cwd()] }));
async function main() {
  const [dump, input, n, output] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(path.join(dump, "model.json"), "utf8"));
  const blob = fs.readFileSync(path.join(dump, "weights.bin"));
  const weightSpecs = spec.weightsManifest.flatMap((g) => g.weights);
  const data = blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory(spec.modelTopology, weightSpecs, data));
  const raw = fs.readFileSync(input);
  const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [Number(n), 224, 224, 3]);
  const y = await model.predict(x).array();
  fs.writeFileSync(output, JSON.stringify(y));
}
main();
