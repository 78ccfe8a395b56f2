// Load a native TF.js package the way diffwatch does and print one JSON line describing it:
//   node scripts/native/check.mjs @tensorflow/tfjs-node     (exit 1, with the reason, when it cannot load)
// Resolution starts at the repository root so it finds node_modules/ and the project's @tensorflow/tfjs.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = process.argv[2] ?? '@tensorflow/tfjs-node';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'package.json'));

try {
  const tf = await import(require.resolve(pkg));
  const ok = await tf.setBackend('tensorflow');
  if (!ok) throw new Error("the 'tensorflow' backend did not initialise");
  // A small product with a known answer: [[1,2],[3,4]] x [[5],[6]] = [[17],[39]].
  const product = Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
  if (product[0] !== 17 || product[1] !== 39) throw new Error(`matMul returned ${JSON.stringify(product)}`);
  const backend = tf.backend();
  let build = null;
  try { build = require(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'native-build.json')); } catch { /* not built by native-setup */ }
  console.log(JSON.stringify({
    ok: true, package: pkg, backend: tf.getBackend(), tfjs: tf.version['tfjs-core'],
    libtensorflow: backend.binding.TF_Version, gpu: Boolean(backend.isUsingGpuDevice), build,
  }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, package: pkg, error: String(err?.stack ?? err).split('\n').slice(0, 3).join(' | ') }));
  process.exit(1);
}
