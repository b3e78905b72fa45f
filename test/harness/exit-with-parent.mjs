// Preloaded into gateway processes started by ./process.ts (`node --import`): the test runner holds
// the write end of this process's stdin, so EOF means the runner is gone (however it died). The
// gateway then gets SIGTERM and shuts down as usual instead of being orphaned.
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
// Reading stdin must not keep a gateway alive after it closed its server.
process.stdin.unref?.();
