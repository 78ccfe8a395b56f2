/**
 * The module graph of src/ (docs/model.md, style principle 9): a folder is a module and
 * dependencies point one way. `npm run lint:deps` checks it; scripts/test.sh runs it after the
 * typecheck. Type-only imports count (tsPreCompilationDeps), since they still tie two modules.
 *
 *   src/model     the diffusion model: imports no service folder, no Kafka, RxJS or InfluxDB
 *   src/modelOps  runs models in the service and the CLI; imports src/model, never the reverse
 *   src/stream    RxJS operators; import no sinks
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: move the shared piece (often a type) into the module that owns it.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'model-is-the-model-only',
      severity: 'error',
      comment: 'src/model is the diffusion model itself: it must not import the service machinery (src/modelOps and the pipeline folders) or Kafka, RxJS or InfluxDB clients.',
      from: { path: '^src/model/' },
      to: { path: ['^src/(modelOps|ingest|stream|sinks|service|cli)/', '(^|/)node_modules/(kafkajs|rxjs|influx)/'] },
    },
    {
      name: 'stream-not-to-sinks',
      severity: 'error',
      comment: 'Operators only transform; the composition root (src/service) connects them to sinks.',
      from: { path: '^src/stream/' },
      to: { path: '^src/sinks/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
