"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
};
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.registerBench = registerBench;
var commander_1 = require("commander");
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var bench_1 = require("@outlet/bench");
var list = function (text) { return text.split(',').map(function (s) { return s.trim(); }).filter(Boolean); };
/** `outlet bench`: every plan side by side through the real system, idle and under load. */
function registerBench(program) {
    var _this = this;
    var _a;
    program
        .command('bench')
        .description('start Redis, the gateway and one node (trunk and branch pinned to different cores), drive it over HTTP with held-out digits, ' +
        'and compare full, serial, parallel, auto and oracle (the best fixed plan) — closed loop, open loop, and in-process without queues')
        .option('--model <name>', 'model package to benchmark', 'branchy-bench')
        .option('--models-dir <dir>', 'folder of model packages', (_a = process.env.OUTLET_MODELS_DIR) !== null && _a !== void 0 ? _a : 'models')
        .option('--quick', 'fewer requests: finishes in a few minutes', false)
        .option('--requests <n>', 'requests per strategy and load pattern (default 300, --quick 100)')
        .option('--oracle-requests <n>', 'requests per candidate plan in the oracle search (default 100, --quick 40)')
        .option('--concurrency <list>', 'closed-loop concurrencies', '1,4')
        .option('--open-rate <fraction>', "open-loop rate as a fraction of the full network's throughput at c=1", '0.5')
        .option('--load <u>', 'background CPU utilization of the loaded scenario', '0.5')
        .option('--scenarios <list>', 'idle and/or loaded', 'idle,loaded')
        .addOption(new commander_1.Option('--trunk-ep <ep>', 'execution provider of the trunk').choices(['cpu', 'webgpu', 'cuda', 'auto']).default('cpu'))
        .option('--trunk-cpus <list>', 'taskset cores of the trunk worker', '0')
        .option('--branch-cpus <list>', 'taskset cores of the branch worker', '1')
        .option('--threads <n>', 'onnxruntime threads of each worker', '1')
        .option('--out <dir>', 'where the JSON and the chart go', 'bench-results')
        .action(function (opts) { return __awaiter(_this, void 0, void 0, function () {
        var load, options, _i, _a, _b, name_1, v, started, report, checks, _c, _d, s, stamp, base;
        var _e, _f;
        return __generator(this, function (_g) {
            switch (_g.label) {
                case 0:
                    load = Number(opts.load);
                    options = {
                        model: opts.model,
                        modelsDir: (0, node_path_1.resolve)(opts.modelsDir),
                        requests: Number((_e = opts.requests) !== null && _e !== void 0 ? _e : (opts.quick ? 100 : 300)),
                        oracleRequests: Number((_f = opts.oracleRequests) !== null && _f !== void 0 ? _f : (opts.quick ? 40 : 100)),
                        concurrencies: list(opts.concurrency).map(Number),
                        openRateFactor: Number(opts.openRate),
                        scenarios: list(opts.scenarios).map(function (name) { return ({ name: name, backgroundLoad: name === 'idle' ? 0 : load }); }),
                        trunkEp: opts.trunkEp,
                        trunkCpus: opts.trunkCpus || undefined,
                        branchCpus: opts.branchCpus || undefined,
                        threads: Number(opts.threads),
                        warmup: opts.quick ? 10 : 30,
                        log: function (line) { return console.log("bench: ".concat(line)); },
                    };
                    for (_i = 0, _a = Object.entries({ requests: options.requests, 'oracle-requests': options.oracleRequests, threads: options.threads }); _i < _a.length; _i++) {
                        _b = _a[_i], name_1 = _b[0], v = _b[1];
                        if (!Number.isInteger(v) || v < 1)
                            throw new Error("--".concat(name_1, " must be a positive integer"));
                    }
                    if (!(load >= 0 && load < 1))
                        throw new Error('--load must be a number from 0 to 1 (exclusive)');
                    if (options.concurrencies.some(function (c) { return !Number.isInteger(c) || c < 1; }) || !options.concurrencies.includes(1)) {
                        throw new Error('--concurrency must list positive integers including 1 (the baseline)');
                    }
                    started = new Date();
                    return [4 /*yield*/, new bench_1.BenchHarness(options).run()];
                case 1:
                    report = _g.sent();
                    checks = (0, bench_1.checkTargets)(report.scenarios);
                    console.log('');
                    for (_c = 0, _d = report.scenarios; _c < _d.length; _c++) {
                        s = _d[_c];
                        console.log("".concat((0, bench_1.scenarioTable)(s), "\n"));
                    }
                    console.log('Targets (ratios from this run):');
                    console.log((0, bench_1.targetsTable)(checks));
                    (0, node_fs_1.mkdirSync)(opts.out, { recursive: true });
                    stamp = started.toISOString().replace(/[:.]/g, '-');
                    base = (0, node_path_1.join)(opts.out, "".concat(options.model, "-").concat(options.trunkEp, "-").concat(stamp));
                    (0, node_fs_1.writeFileSync)("".concat(base, ".json"), JSON.stringify(__assign(__assign({ startedAt: started.toISOString() }, report), { targets: checks }), null, 2));
                    (0, node_fs_1.writeFileSync)("".concat(base, ".svg"), (0, bench_1.chartSvg)(report.scenarios, options.model));
                    console.log("\nwrote ".concat(base, ".json and ").concat(base, ".svg (latency CDF)"));
                    return [2 /*return*/];
            }
        });
    }); });
}
