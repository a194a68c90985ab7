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
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.resolvePackageDir = resolvePackageDir;
exports.registerProfile = registerProfile;
var node_fs_1 = require("node:fs");
var node_path_1 = require("node:path");
var model_package_1 = require("@outlet/model-package");
var inference_1 = require("@outlet/inference");
var profiler_1 = require("@outlet/profiler");
var progress_1 = require("./progress");
/** A package folder, or a package name under $OUTLET_MODELS_DIR (default ./models). */
function resolvePackageDir(model) {
    var _a, _b;
    if ((0, node_fs_1.existsSync)((0, node_path_1.join)(model, 'manifest.json')))
        return (0, node_path_1.resolve)(model);
    var underModels = (0, node_path_1.resolve)((_a = process.env.OUTLET_MODELS_DIR) !== null && _a !== void 0 ? _a : 'models', model);
    if ((0, node_fs_1.existsSync)((0, node_path_1.join)(underModels, 'manifest.json')))
        return underModels;
    throw new Error("'".concat(model, "' is neither a model package folder nor a package in ").concat((0, node_path_1.resolve)((_b = process.env.OUTLET_MODELS_DIR) !== null && _b !== void 0 ? _b : 'models')));
}
function summaryTable(profile) {
    var lines = ["".concat(profile.model, ": median ms (p10\u2013p90) at background CPU utilization (achieved)")];
    var _loop_1 = function (ep) {
        var header = profile.utilization_levels.map(function (u, i) { return "u=".concat(u, " (").concat(profile.achieved_utilization[i], ")").padStart(22); }).join('');
        lines.push("  ".concat(ep.padEnd(12)).concat(header));
        var keys = __spreadArray([], new Set(profile.measurements.filter(function (m) { return m.ep === ep; }).map(function (m) { return "".concat(m.piece, ":").concat(m.index); })), true);
        var _loop_2 = function (key) {
            var _c = key.split(':'), piece = _c[0], index = _c[1];
            var cells = profile.utilization_levels.map(function (u) {
                var m = profile.measurements.find(function (x) { return x.ep === ep && x.piece === piece && x.index === Number(index) && x.cpu_util === u; });
                return (m ? "".concat(m.median_ms.toFixed(3), " (").concat(m.p10_ms.toFixed(3), "\u2013").concat(m.p90_ms.toFixed(3), ")") : '-').padStart(22);
            });
            lines.push("  ".concat("".concat(piece, " ").concat(index).padEnd(12)).concat(cells.join('')));
        };
        for (var _b = 0, keys_1 = keys; _b < keys_1.length; _b++) {
            var key = keys_1[_b];
            _loop_2(key);
        }
    };
    for (var _i = 0, _a = profile.eps; _i < _a.length; _i++) {
        var ep = _a[_i];
        _loop_1(ep);
    }
    return lines.join('\n');
}
function registerProfile(program) {
    var _this = this;
    program
        .command('profile')
        .description('measure every segment and exit head of a model package on every execution provider that works here (cpu; webgpu, cuda where a session opens), at background CPU utilization levels held by a load generator; writes profile.json into the package')
        .argument('<model>', 'model package folder, or package name under $OUTLET_MODELS_DIR (default ./models)')
        .option('--levels <list>', 'background CPU utilization levels, comma separated, 0..1', profiler_1.DEFAULT_LEVELS.join(','))
        .option('--runs <n>', 'timed runs per piece, provider and level', '50')
        .option('--warmup <n>', 'warm-up runs before timing', '5')
        .option('--threads <n>', 'intra-op thread budget of each session', '1')
        .option('--eps <list>', "execution providers to try, comma separated (".concat(inference_1.AUTO_EP_ORDER.join(', '), ")"), 'cpu,webgpu,cuda')
        .option('--max-ms <ms>', 'stop repeating a piece at one level after this long (at least 5 runs)', '2000')
        .option('--dry-run', 'print the summary without writing profile.json')
        .action(function (model, opts) { return __awaiter(_this, void 0, void 0, function () {
        var pkg, eps, unknown, bar, profile;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    pkg = (0, model_package_1.loadModelPackage)(resolvePackageDir(model));
                    eps = String(opts.eps).split(',').map(function (s) { return s.trim(); });
                    unknown = eps.filter(function (e) { return !inference_1.AUTO_EP_ORDER.includes(e); });
                    if (unknown.length)
                        throw new Error("unknown execution provider(s): ".concat(unknown.join(', ')));
                    bar = (0, progress_1.progressBar)("profile ".concat(pkg.manifest.name));
                    _a.label = 1;
                case 1:
                    _a.trys.push([1, , 3, 4]);
                    return [4 /*yield*/, (0, profiler_1.profilePackage)(pkg, {
                            levels: (0, progress_1.parseLevels)(String(opts.levels)),
                            runs: (0, progress_1.parsePositiveInt)('--runs')(String(opts.runs)),
                            warmup: Number(opts.warmup),
                            threads: (0, progress_1.parsePositiveInt)('--threads')(String(opts.threads)),
                            eps: eps,
                            maxMsPerPiece: Number(opts.maxMs),
                            onProgress: bar.update,
                            onNote: function (msg) { return process.stderr.write("".concat(msg, "\n")); },
                        })];
                case 2:
                    profile = _a.sent();
                    return [3 /*break*/, 4];
                case 3:
                    bar.stop();
                    return [7 /*endfinally*/];
                case 4:
                    console.log(summaryTable(profile));
                    if (!opts.dryRun)
                        console.log("wrote ".concat((0, profiler_1.writeProfile)(pkg, profile)));
                    return [2 /*return*/];
            }
        });
    }); });
}
