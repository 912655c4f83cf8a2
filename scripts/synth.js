#!/usr/bin/env node
// `npm run synth`: brings dist/ up to date (scripts/build.js, skipped when
// current) and synthesizes the example stacks in the same process, so that
// a run with nothing changed starts node once.
'use strict';

const { build, SYNTH_BUNDLE } = require('./build');

build()
  .then(() => require(SYNTH_BUNDLE).synthesizeExamples())
  .catch((err) => {
    console.error(`synth: ${err.message}`);
    process.exit(1);
  });
