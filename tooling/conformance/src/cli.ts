console.error('the conformance runner is being written');
process.exit(2);
