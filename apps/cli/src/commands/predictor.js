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
exports.registerPredictor = registerPredictor;
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var predictor_1 = require("@outlet/predictor");
var progress_1 = require("./progress");
function evalTable(rows) {
    var lines = ['held-out zoo models: share within ±10% of the measured median, within ±20%, MAPE, median APE'];
    lines.push("".concat('ep'.padEnd(8)).concat('u'.padStart(6)).concat('n'.padStart(5)).concat('±10%'.padStart(8)).concat('±20%'.padStart(8)).concat('MAPE%'.padStart(8)).concat('MdAPE%'.padStart(8)));
    for (var _i = 0, rows_1 = rows; _i < rows_1.length; _i++) {
        var r = rows_1[_i];
        var u = r.cpu_util === 'all' ? 'all' : String(r.cpu_util);
        lines.push("".concat(r.ep.padEnd(8)).concat(u.padStart(6)).concat(String(r.n).padStart(5)).concat((100 * r.within_10pct).toFixed(0).padStart(7), "%").concat((100 * r.within_20pct).toFixed(0).padStart(7), "%").concat(r.mape.toFixed(1).padStart(8)).concat(r.median_ape.toFixed(1).padStart(8)));
    }
    return lines.join('\n');
}
function registerPredictor(program) {
    var _this = this;
    var predictor = program
        .command('predictor')
        .description('latency predictor: run time of a segment or exit head from its ONNX cost features (FLOPs and bytes by layer type, op count), per execution provider and CPU utilization');
    predictor
        .command('fit')
        .description("generate a zoo of conv / pool / fully-connected ONNX models, measure them on every provider that works at background CPU utilization levels, fit per provider and level by non-negative least squares, and evaluate on a held-out part of the zoo; writes the predictor (with the zoo measurements) as JSON")
        .option('--out <path>', "where to write the predictor (default ".concat((0, predictor_1.defaultPredictorPath)(), ", or $OUTLET_PREDICTOR)"))
        .option('--quick', "a smaller, faster fit: ".concat(predictor_1.FIT_QUICK.count, " models, levels ").concat(predictor_1.FIT_QUICK.levels.join(','), ", ").concat(predictor_1.FIT_QUICK.runs, " runs"))
        .option('--count <n>', "zoo size (default ".concat(predictor_1.FIT_DEFAULTS.count, ")"))
        .option('--levels <list>', "background CPU utilization levels (default ".concat(predictor_1.FIT_DEFAULTS.levels.join(','), ")"))
        .option('--runs <n>', "timed runs per model and level (default ".concat(predictor_1.FIT_DEFAULTS.runs, ")"))
        .option('--seed <n>', "zoo and split seed (default ".concat(predictor_1.FIT_DEFAULTS.seed, ")"))
        .option('--holdout <share>', "share of the zoo held out for evaluation (default ".concat(predictor_1.FIT_DEFAULTS.holdoutShare, ")"))
        .option('--threads <n>', 'intra-op thread budget of each session (default 1)')
        .option('--eps <list>', 'execution providers to try (default cpu,webgpu,cuda)')
        .action(function (opts) { return __awaiter(_this, void 0, void 0, function () {
        var base, out, bar, started, fitted;
        var _a, _b;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0:
                    base = opts.quick ? predictor_1.FIT_QUICK : predictor_1.FIT_DEFAULTS;
                    out = (_a = opts.out) !== null && _a !== void 0 ? _a : (0, predictor_1.defaultPredictorPath)();
                    bar = (0, progress_1.progressBar)('predictor fit');
                    started = Date.now();
                    _c.label = 1;
                case 1:
                    _c.trys.push([1, , 3, 4]);
                    return [4 /*yield*/, (0, predictor_1.fitFromZoo)(__assign(__assign({}, base), { count: opts.count ? (0, progress_1.parsePositiveInt)('--count')(String(opts.count)) : base.count, levels: opts.levels ? (0, progress_1.parseLevels)(String(opts.levels)) : base.levels, runs: opts.runs ? (0, progress_1.parsePositiveInt)('--runs')(String(opts.runs)) : base.runs, seed: opts.seed ? Number(opts.seed) : base.seed, holdoutShare: opts.holdout ? Number(opts.holdout) : base.holdoutShare, threads: opts.threads ? (0, progress_1.parsePositiveInt)('--threads')(String(opts.threads)) : 1, eps: opts.eps ? String(opts.eps).split(',').map(function (s) { return s.trim(); }) : undefined, onProgress: bar.update, onNote: function (msg) { return process.stderr.write("".concat(msg, "\n")); } }))];
                case 2:
                    fitted = _c.sent();
                    return [3 /*break*/, 4];
                case 3:
                    bar.stop();
                    return [7 /*endfinally*/];
                case 4:
                    (0, node_fs_1.mkdirSync)((0, node_path_1.dirname)(out), { recursive: true });
                    (0, node_fs_1.writeFileSync)(out, "".concat(JSON.stringify(fitted, null, 1), "\n"));
                    console.log(evalTable((_b = fitted.evaluation) !== null && _b !== void 0 ? _b : []));
                    console.log("fitted in ".concat(((Date.now() - started) / 1000).toFixed(0), " s; wrote ").concat(out));
                    return [2 /*return*/];
            }
        });
    }); });
    predictor
        .command('eval')
        .description('evaluate a fitted predictor on its held-out zoo measurements: share of predictions within ±10% of the measured median, and MAPE, per provider and utilization level')
        .option('--predictor <path>', "fitted predictor (default ".concat((0, predictor_1.defaultPredictorPath)(), ", or $OUTLET_PREDICTOR)"))
        .option('--refit', 'refit the coefficients from the stored zoo measurements before evaluating (nothing is written)')
        .option('--json', 'print the metrics as JSON')
        .action(function (opts) {
        var _a, _b, _c, _d, _e, _f, _g, _h, _j;
        var path = (_a = opts.predictor) !== null && _a !== void 0 ? _a : (0, predictor_1.defaultPredictorPath)();
        var loaded = (0, predictor_1.loadPredictor)(path);
        if (!loaded)
            throw new Error("no fitted predictor at ".concat(path, ": run `outlet predictor fit` first"));
        var p = opts.refit ? (0, predictor_1.refit)(loaded) : loaded;
        var rows = (0, predictor_1.evaluatePredictor)(p);
        if (opts.json)
            console.log(JSON.stringify(rows, null, 2));
        else {
            var fit = (_c = (_b = p.zoo) === null || _b === void 0 ? void 0 : _b.entries.filter(function (e) { return e.set === 'fit'; }).length) !== null && _c !== void 0 ? _c : 0;
            var hold = (_e = (_d = p.zoo) === null || _d === void 0 ? void 0 : _d.entries.filter(function (e) { return e.set === 'holdout'; }).length) !== null && _e !== void 0 ? _e : 0;
            console.log("".concat(path, ": fitted ").concat(p.created_at, " on ").concat((_g = (_f = p.machine) === null || _f === void 0 ? void 0 : _f.cpu_model) !== null && _g !== void 0 ? _g : '?', " (").concat((_j = (_h = p.machine) === null || _h === void 0 ? void 0 : _h.cores) !== null && _j !== void 0 ? _j : '?', " cores), ").concat(fit, " fit / ").concat(hold, " held-out zoo models, threads ").concat(p.threads));
            console.log(evalTable(rows));
        }
    });
}
