"use strict";
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
exports.LoadGenerator = void 0;
exports.measureUtilization = measureUtilization;
var node_os_1 = require("node:os");
var node_worker_threads_1 = require("node:worker_threads");
var edge_node_1 = require("@outlet/edge-node");
/**
 * Holds the machine's cores at a target background CPU utilization u (0..1) by duty cycling: one
 * worker thread per core, each spinning for u×period and then sleeping (1−u)×period. Each worker
 * starts at a random phase so the busy windows of the cores do not line up.
 */
// The worker's code, run with `eval` so it needs no file of its own in dist/.
// ctl[0]: target utilization in millionths; ctl[1]: 1 once stopping.
var WORKER_SOURCE = "\nconst { workerData } = require('node:worker_threads');\nconst ctl = new Int32Array(workerData.sab);\nconst period = workerData.periodMs;\nlet next = performance.now() + Math.random() * period;\nAtomics.wait(ctl, 1, 0, Math.max(0, next - performance.now()));\nlet sink = 0;\nwhile (Atomics.load(ctl, 1) === 0) {\n  const u = Atomics.load(ctl, 0) / 1e6;\n  const start = next;\n  next = start + period;\n  const busyEnd = start + u * period;\n  while (performance.now() < busyEnd) sink = (sink * 1103515245 + 12345) | 0;\n  const idle = next - performance.now();\n  if (idle > 0) Atomics.wait(ctl, 1, 0, idle);\n  else next = performance.now(); // fell behind (preempted): restart the period now\n}\n";
var LoadGenerator = /** @class */ (function () {
    function LoadGenerator(options) {
        if (options === void 0) { options = {}; }
        var _a, _b;
        this.workers = [];
        this.ctl = new Int32Array(new SharedArrayBuffer(8));
        this.level = 0;
        this.threads = (_a = options.threads) !== null && _a !== void 0 ? _a : (0, node_os_1.cpus)().length;
        this.periodMs = (_b = options.periodMs) !== null && _b !== void 0 ? _b : 10;
    }
    Object.defineProperty(LoadGenerator.prototype, "target", {
        /** The current target utilization. */
        get: function () {
            return this.level;
        },
        enumerable: false,
        configurable: true
    });
    /** Start (or retarget) the load at utilization u; u = 0 stops the workers. */
    LoadGenerator.prototype.start = function (u) {
        if (!(u >= 0 && u <= 1))
            throw new Error("utilization must be between 0 and 1, got ".concat(u));
        this.level = u;
        if (u === 0) {
            this.stop();
            return;
        }
        Atomics.store(this.ctl, 0, Math.round(u * 1e6));
        if (this.workers.length > 0)
            return;
        Atomics.store(this.ctl, 1, 0);
        for (var i = 0; i < this.threads; i++) {
            var w = new node_worker_threads_1.Worker(WORKER_SOURCE, { eval: true, workerData: { sab: this.ctl.buffer, periodMs: this.periodMs } });
            w.unref();
            this.workers.push(w);
        }
    };
    /** Stop all busy loops and wait for the workers to end. */
    LoadGenerator.prototype.stopAndWait = function () {
        return __awaiter(this, void 0, void 0, function () {
            var workers;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        workers = this.workers;
                        this.stop();
                        return [4 /*yield*/, Promise.all(workers.map(function (w) {
                                w.ref(); // an unref'd worker would not keep the process alive while we wait for its exit
                                return new Promise(function (resolve) { return w.once('exit', resolve); });
                            }))];
                    case 1:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    LoadGenerator.prototype.stop = function () {
        this.level = 0;
        Atomics.store(this.ctl, 1, 1);
        Atomics.notify(this.ctl, 1);
        this.workers = [];
    };
    return LoadGenerator;
}());
exports.LoadGenerator = LoadGenerator;
/** Machine-wide CPU utilization over the next `ms` milliseconds, from /proc/stat. */
function measureUtilization(ms) {
    return __awaiter(this, void 0, void 0, function () {
        var a;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    a = (0, edge_node_1.readCpuTimes)();
                    return [4 /*yield*/, new Promise(function (r) { return setTimeout(r, ms); })];
                case 1:
                    _a.sent();
                    return [2 /*return*/, (0, edge_node_1.utilizationBetween)(a, (0, edge_node_1.readCpuTimes)())];
            }
        });
    });
}
