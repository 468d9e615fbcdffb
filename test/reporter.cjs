// mocha's spec reporter, closing with the plain "N passed, N failed" line CI reads.
const { reporters } = require('mocha');

class KotelReporter extends reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const s = runner.stats;
      process.stdout.write(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}

module.exports = KotelReporter;
