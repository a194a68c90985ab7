#!/usr/bin/env node
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var commander_1 = require("commander");
var start_1 = require("./commands/start");
var bench_1 = require("./commands/bench");
/** The `outlet` command line: run the system, and the offline stage (profile, predict, calibrate, plan). */
var program = new commander_1.Command('outlet').description('Outlet: multi-exit inference across CPU and accelerator');
program
    .command('start')
    .description('run the whole single-node system: gateway, trunk worker, branch worker (and a private redis-server unless REDIS_URL is set)')
    .action(start_1.startCommand);
(0, bench_1.registerBench)(program);
program.parseAsync(process.argv).catch(function (err) {
    console.error("outlet: ".concat(err instanceof Error ? err.message : String(err)));
    process.exit(1);
});
